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
 * as root, its owner).
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
  const dir = path.dirname(path.resolve(dest));
  return removeStaleTemps(dir, (name) => name.startsWith('.') && name.endsWith('.tmp'));
}

/** Give the file that will replace `st` its mode, and as root its owner. */
async function inheritModeAndOwner(temp: string, st: fs.Stats): Promise<void> {
  await fs.promises.chmod(temp, st.mode & 0o7777);
  if (process.getuid?.() === 0) await fs.promises.chown(temp, st.uid, st.gid);
}

/** Move a file into place without replacing anything unless `force` (link fails on EEXIST). */
async function placeFile(temp: string, dest: string, force: boolean): Promise<void> {
  if (force) {
    const st = await lstatOrUndefined(dest);
    if (st && !st.isFile()) throw exists(dest, `became ${kindOf(st)} while writing; nothing was changed`);
    if (st) await inheritModeAndOwner(temp, st);
    return fs.promises.rename(temp, dest);
  }
  try {
    await fs.promises.link(temp, dest);
    await fs.promises.unlink(temp);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw exists(dest, 'already exists; pass --force to replace it');
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes(code ?? '')) throw err;
    // Filesystems without hard links: check, then rename (a small race we cannot close there).
    if (await lstatOrUndefined(dest)) throw exists(dest, 'already exists; pass --force to replace it');
    await fs.promises.rename(temp, dest);
  }
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
 * it — with the mode of the file it will replace, so a private image is never readable by others
 * while it is written.
 */
export async function stageFile(dest: string, force: boolean): Promise<StagedOutput> {
  const replacing = await checkFileDest(dest, force);
  await removeStaleBeside(dest);
  const temp = tempNameBeside(dest);
  registerTemp(temp);
  try {
    await fs.promises.writeFile(temp, '', { flag: 'wx', mode: 0o600 });
    const st = replacing ? await lstatOrUndefined(dest) : undefined;
    if (st?.isFile()) await inheritModeAndOwner(temp, st);
    else await fs.promises.chmod(temp, 0o666 & ~process.umask());
  } catch (err) {
    await removeTemp(temp).catch(() => undefined);
    throw asLayerflatError(err, `creating ${temp}`);
  }
  return staged(dest, temp, () => placeFile(temp, dest, force));
}

/**
 * Stage a new DIRECTORY output: DEST must be absent or an empty directory (which the rename
 * replaces atomically); anything else is DEST_EXISTS, force or not.
 */
export async function stageDirectory(dest: string): Promise<StagedOutput> {
  await checkDirectoryDest(dest);
  await removeStaleBeside(dest);
  const temp = tempNameBeside(dest);
  registerTemp(temp);
  await fs.promises.mkdir(temp).catch((err: unknown) => {
    forgetTemp(temp);
    throw asLayerflatError(err, `creating ${temp}`);
  });
  return staged(dest, temp, () => fs.promises.rename(temp, dest));
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
    await fs.promises.writeFile(temp, data).catch((err: unknown) => {
      throw asLayerflatError(err, `writing ${temp}`);
    });
  });
}
