/**
 * Writing an output under a temporary name beside DEST and putting it in place only when it is
 * complete, so DEST is either untouched or whole. The temporary lives in DEST's own directory
 * (same filesystem, so the rename is atomic), is created exclusively by us, and is the only thing
 * ever removed — on error, on discard, on a signal (the CLI's handler) and, once its process is
 * gone, by the next run writing there (temp-names.ts).
 *
 * DEST rules: a missing parent directory, or one we may not create files in, fails before any
 * work; an existing DEST is DEST_EXISTS unless `force`; only a regular file is ever replaced
 * (never a directory, symlink, device, fifo or socket), and the replacement keeps its mode (and,
 * as root, its owner). Nothing is ever written or chmod-ed through a symbolic link: DEST is put
 * in place by link(2) or rename(2), which act on the name, and the temporary is reopened with
 * O_NOFOLLOW and checked to be the one we made.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LayerflatError, asLayerflatError } from '../errors.js';
import { forgetTemp, registerTemp, removeTemp } from './cleanup.js';
import { removeStaleTemps, tempNameBeside } from './temp-names.js';

/** An output being built at `temp`, to become `dest` on commit. */
export interface StagedOutput {
  readonly dest: string;
  readonly temp: string;
  /** Move `temp` into place; fails with DEST_EXISTS if DEST appeared meanwhile (without force). */
  commit(): Promise<void>;
  /** Remove `temp`; safe to call after a failed or successful commit. */
  discard(): Promise<void>;
}

/** What is at DEST now, if anything. */
async function lstatOrUndefined(dest: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.lstat(dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw asLayerflatError(err, `cannot write ${dest}`);
  }
}

function exists(dest: string, why: string): LayerflatError {
  return new LayerflatError('DEST_EXISTS', `${dest} ${why}`);
}

/** What lies at `st`, for a message: "a directory", "a symbolic link", "a character device" … */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a fifo';
  if (st.isSocket()) return 'a socket';
  return 'a regular file';
}

/**
 * We may create files in `dir` (a read-only filesystem, a directory without write permission
 * fail here, before any work, as the write itself would fail later).
 */
export async function checkWritableDir(dir: string, dest: string): Promise<void> {
  await fs.promises.access(dir, fs.constants.W_OK | fs.constants.X_OK).catch((err: unknown) => {
    throw asLayerflatError(err, `cannot write ${dest}`);
  });
}

/** The parent directory of `dest` must exist, be a directory and writable, before any work is done. */
async function checkParent(dest: string): Promise<string> {
  const parent = path.dirname(path.resolve(dest));
  let st: fs.Stats | undefined;
  try {
    st = await fs.promises.stat(parent);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw asLayerflatError(err, `cannot write ${dest}`);
  }
  if (!st) throw new LayerflatError('NOT_FOUND', `cannot write ${dest}: directory ${parent} does not exist`);
  if (!st.isDirectory()) throw new LayerflatError('IO', `cannot write ${dest}: ${parent} is not a directory`);
  await checkWritableDir(parent, dest);
  return parent;
}

/**
 * Check a FILE destination before any work: its directory exists, and it is absent or (with
 * `force`) a regular file. Returns whether something is there.
 */
export async function checkFileDest(dest: string, force: boolean): Promise<boolean> {
  await checkParent(dest);
  const st = await lstatOrUndefined(dest);
  if (!st) return false;
  if (!st.isFile()) {
    throw exists(dest, `is ${kindOf(st)}; layerflat replaces only regular files, and only with --force`);
  }
  if (!force) throw exists(dest, 'already exists; pass --force to replace it');
  return true;
}

/** Check a new DIRECTORY destination: absent or an empty directory, in an existing directory. */
export async function checkDirectoryDest(dest: string): Promise<void> {
  await checkParent(dest);
  const st = await lstatOrUndefined(dest);
  if (st && !st.isDirectory()) throw exists(dest, `is ${kindOf(st)}, not a directory; layerflat will not replace it`);
  if (st && (await fs.promises.readdir(dest)).length > 0) throw exists(dest, 'exists and is not empty');
}

/** Temporaries beside DEST left by a layerflat process that no longer runs. */
function removeStaleBeside(dest: string): Promise<string[]> {
  return removeStaleTemps(path.dirname(path.resolve(dest)), ['beside']);
}

/** Open flags that never follow a symbolic link at the last component (0 where the OS has none). */
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** The mode a new file gets: what the umask allows of 0666, as if the file were created plainly. */
function newFileMode(): number {
  return 0o666 & ~process.umask();
}

/**
 * Open our temporary `temp` (never through a symbolic link), check it is still the file we made
 * (`made`: same device and inode), and run `fix` on it: what is done to the temporary after it was
 * written is done through this handle, never by path, so a link planted in its place is never
 * followed.
 */
async function onOwnTemp(temp: string, made: fs.Stats, fix: (fh: fs.promises.FileHandle) => Promise<void>) {
  const fh = await fs.promises.open(temp, fs.constants.O_RDONLY | NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.dev !== made.dev || st.ino !== made.ino) {
      throw new LayerflatError('IO', `${temp} was replaced while layerflat wrote it; nothing was put in place`);
    }
    await fix(fh);
  } finally {
    await fh.close();
  }
}

/**
 * Give the finished temporary the mode and owner it is to have in place: those of the regular
 * file it replaces (the owner as root; otherwise at least the group, when we may), else a new
 * file's. The owner goes first, since a chown may clear set-id bits.
 */
async function finalMetadata(fh: fs.promises.FileHandle, made: fs.Stats, replaced: fs.Stats | undefined) {
  if (!replaced) return fh.chmod(newFileMode());
  if (process.getuid?.() === 0) await fh.chown(replaced.uid, replaced.gid);
  else if (replaced.gid !== made.gid) await fh.chown(made.uid, replaced.gid).catch(() => undefined);
  await fh.chmod(replaced.mode & 0o7777);
}

/**
 * Move a finished file into place without replacing anything unless `force` (link fails on
 * EEXIST, and never follows a link at DEST); with `force` only a regular file is replaced.
 */
async function placeFile(temp: string, made: fs.Stats, dest: string, force: boolean): Promise<void> {
  const st = force ? await lstatOrUndefined(dest) : undefined;
  if (st && !st.isFile()) throw exists(dest, `became ${kindOf(st)} while writing; nothing was changed`);
  await onOwnTemp(temp, made, (fh) => finalMetadata(fh, made, st));
  if (force) return fs.promises.rename(temp, dest);
  try {
    await fs.promises.link(temp, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw exists(dest, 'already exists; pass --force to replace it');
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes(code ?? '')) throw err;
    // Filesystems without hard links: check, then rename (a small race we cannot close there).
    if (await lstatOrUndefined(dest)) throw exists(dest, 'already exists; pass --force to replace it');
    return fs.promises.rename(temp, dest);
  }
  await fs.promises.unlink(temp).catch(() => undefined); // DEST is in place; the extra name goes
}

function staged(dest: string, temp: string, place: () => Promise<void>): StagedOutput {
  return {
    dest,
    temp,
    async commit() {
      try {
        await place();
      } catch (err) {
        if (err instanceof LayerflatError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
          throw exists(dest, 'appeared while writing and is not replaceable; nothing was changed');
        }
        throw asLayerflatError(err, `putting ${dest} in place`);
      }
      forgetTemp(temp);
    },
    discard: () => removeTemp(temp),
  };
}

/**
 * Stage a FILE output: check DEST (see checkFileDest) and create an empty temporary file beside
 * it, exclusively and private to its owner (0600) while it is written — so it is never more
 * readable than the file it replaces — and given that file's mode (and owner) only when complete.
 */
export async function stageFile(dest: string, force: boolean): Promise<StagedOutput> {
  await checkFileDest(dest, force);
  await removeStaleBeside(dest);
  const temp = tempNameBeside(dest);
  registerTemp(temp);
  let made: fs.Stats;
  try {
    const fh = await fs.promises.open(temp, 'wx', 0o600);
    try {
      await fh.chmod(0o600); // whatever the umask
      made = await fh.stat();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await removeTemp(temp).catch(() => undefined);
    throw asLayerflatError(err, `creating ${temp}`);
  }
  return staged(dest, temp, () => placeFile(temp, made, dest, force));
}

/** Open a staged file for writing from its start, never through a symbolic link planted in its place. */
export function openStagedFile(temp: string): Promise<fs.promises.FileHandle> {
  return fs.promises.open(temp, fs.constants.O_WRONLY | fs.constants.O_TRUNC | NOFOLLOW).catch((err: unknown) => {
    throw asLayerflatError(err, `writing ${temp}`);
  });
}

/**
 * Stage a new DIRECTORY output: DEST must be absent or an empty directory (which the rename
 * replaces atomically); anything else is DEST_EXISTS, force or not. The directory is private
 * (0700) while it is filled and gets a new directory's mode (or the empty one's) when complete.
 */
export async function stageDirectory(dest: string): Promise<StagedOutput> {
  await checkDirectoryDest(dest);
  await removeStaleBeside(dest);
  const temp = tempNameBeside(dest);
  registerTemp(temp);
  let made: fs.Stats;
  try {
    await fs.promises.mkdir(temp, { mode: 0o700 });
    made = await fs.promises.lstat(temp);
  } catch (err) {
    await removeTemp(temp).catch(() => undefined);
    throw asLayerflatError(err, `creating ${temp}`);
  }
  return staged(dest, temp, async () => {
    const st = await fs.promises.lstat(temp);
    if (!st.isDirectory() || st.dev !== made.dev || st.ino !== made.ino) {
      throw new LayerflatError('IO', `${temp} was replaced while layerflat wrote it; nothing was put in place`);
    }
    const empty = await lstatOrUndefined(dest);
    await fs.promises.chmod(temp, empty?.isDirectory() ? empty.mode & 0o7777 : 0o777 & ~process.umask());
    await fs.promises.rename(temp, dest);
  });
}

/**
 * Run `build` on a staged output, then `beforeCommit`, then commit; on any failure remove the
 * temporary and rethrow. Returns what `build` returned.
 */
export async function commitWhenBuilt<T>(
  out: StagedOutput,
  build: (temp: string) => Promise<T>,
  beforeCommit?: () => Promise<void>,
): Promise<T> {
  try {
    const result = await build(out.temp);
    if (beforeCommit) await beforeCommit();
    await out.commit();
    return result;
  } catch (err) {
    await out.discard().catch(() => undefined); // the first error is the one to report
    throw err;
  }
}

/**
 * Write a small file (an SVG chart, a report) the way every output is written: beside `dest`,
 * then put in place — never through a symlink someone planted, never over a file unless `force`.
 */
export async function writeFileSafely(dest: string, data: string | Buffer, force: boolean): Promise<void> {
  const out = await stageFile(dest, force);
  await commitWhenBuilt(out, async (temp) => {
    const fh = await openStagedFile(temp);
    try {
      await fh.writeFile(data);
    } catch (err) {
      throw asLayerflatError(err, `writing ${temp}`);
    } finally {
      await fh.close();
    }
  });
}
