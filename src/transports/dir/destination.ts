/**
 * The rootfs directory an unpack writes, and the marker that says it is not complete.
 *
 * DIR must be absent (it is then made, 0755) or an empty directory, and an empty one only with
 * --force: a directory someone made is theirs, and unpacking into it should be asked for. Anything
 * in DIR, or DIR not a directory, is DEST_EXISTS, whatever --force says: an unpack never mixes an
 * image with other files, nor removes them.
 *
 * While the unpack runs, `.NAME.layerflat-incomplete` stands beside DIR (in its parent, not in
 * it: nothing of it may end up in the filesystem a container sees, even when the run is killed
 * before it could remove it). It is made first, exclusively — a second unpack into the same DIR
 * stops there — and removed last, after every file, attribute and directory time is set. A run
 * that is killed leaves it, and `unpack` refuses a DIR so marked (DEST_INCOMPLETE) until both are
 * removed. A run that fails removes what it wrote, then the marker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { asLayerflatError, LayerflatError } from '../../errors.js';

export interface RootfsDestination {
  /** DIR as given, made absolute. */
  dir: string;
  /** DIR with no symlink in it: where the files go. */
  real: string;
  marker: string;
  /** DIR was made by this run (so a failure removes it, not only what is in it). */
  made: boolean;
}

/** The marker of `dir` (absolute). */
function markerOf(dir: string): string {
  return path.join(path.dirname(dir), `.${path.basename(dir)}.layerflat-incomplete`);
}

/**
 * Check DIR and take it: the marker made, DIR made if absent. Before any layer is read, so a DIR
 * that cannot be used fails at once.
 */
export async function claimRootfs(dir: string, o: { force: boolean; source: string }): Promise<RootfsDestination> {
  const abs = path.resolve(dir);
  if (path.dirname(abs) === abs) throw new LayerflatError('DEST_EXISTS', `${dir}: cannot unpack into /`);
  const marker = markerOf(abs);
  if (await lexists(marker)) throw incomplete(abs, marker);
  const made = !(await checkDir(abs, o.force));
  const text = `layerflat unpack of ${o.source} into ${abs}, pid ${process.pid}, started ${new Date().toISOString()}\n`;
  try {
    await fs.promises.writeFile(marker, text, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw incomplete(abs, marker);
    throw asLayerflatError(err, `cannot write ${marker} (the marker of an unpack under way)`);
  }
  try {
    if (made) await fs.promises.mkdir(abs, 0o755).then(() => fs.promises.chmod(abs, 0o755));
    return { dir: abs, real: await fs.promises.realpath(abs), marker, made };
  } catch (err) {
    await fs.promises.rm(marker, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new LayerflatError('DEST_EXISTS', `${abs} appeared meanwhile`);
    throw asLayerflatError(err, `cannot make ${abs}`);
  }
}

/** Whether DIR is there (an empty directory, with --force); throws when it cannot be used. */
async function checkDir(abs: string, force: boolean): Promise<boolean> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(abs); // DIR itself may be a symlink to a directory: the user named it
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw asLayerflatError(err, abs);
    if (await lexists(abs)) throw new LayerflatError('DEST_EXISTS', `${abs} is a symlink to nothing`);
    const parent = path.dirname(abs);
    if (!(await isDir(parent)))
      throw new LayerflatError('NOT_FOUND', `cannot unpack into ${abs}: ${parent} is not a directory`);
    return false;
  }
  if (!st.isDirectory()) throw new LayerflatError('DEST_EXISTS', `${abs} exists and is not a directory`);
  const names = await fs.promises.readdir(abs).catch((err: unknown) => {
    throw asLayerflatError(err, abs);
  });
  if (names.length > 0) {
    throw new LayerflatError(
      'DEST_EXISTS',
      `${abs} is not empty (${names.length} entries); unpack writes only into an empty or new directory`,
    );
  }
  if (!force) {
    throw new LayerflatError('DEST_EXISTS', `${abs} exists (empty); pass --force to unpack into it`);
  }
  return true;
}

/** The unpack is complete: the marker goes. */
export async function completeRootfs(d: RootfsDestination): Promise<void> {
  await fs.promises.rm(d.marker, { force: true }).catch((err: unknown) => {
    throw asLayerflatError(err, `removing ${d.marker}`);
  });
}

/** Empty DIR (for a fresh start of the same unpack); the marker stays. */
export async function emptyRootfs(d: RootfsDestination): Promise<void> {
  for (const name of await fs.promises.readdir(Buffer.from(d.real), { encoding: 'buffer' })) {
    await removeAll(Buffer.concat([Buffer.from(`${d.real}/`), name]));
  }
}

/**
 * rm -rf, which never follows a symlink; when a directory's mode stops it (a user's unpack that
 * failed once directory modes were set), every directory below is opened to its owner first.
 */
async function removeAll(p: Buffer): Promise<void> {
  try {
    return await fs.promises.rm(p, { recursive: true, force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
  }
  const stack = [p];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const st = fs.lstatSync(dir);
    if (!st.isDirectory()) continue;
    fs.chmodSync(dir, (st.mode & 0o7777) | 0o700); // a real directory (lstat), not a symlink's target
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' }))
      stack.push(Buffer.concat([dir, Buffer.from('/'), name]));
  }
  await fs.promises.rm(p, { recursive: true, force: true });
}

/**
 * The unpack failed: remove what it wrote (DIR itself if it made it), then the marker. Returns
 * false, leaving the marker, when that could not be done.
 */
export async function abandonRootfs(d: RootfsDestination): Promise<boolean> {
  try {
    if (d.made) await removeAll(Buffer.from(d.real));
    else await emptyRootfs(d);
  } catch {
    return false;
  }
  await fs.promises.rm(d.marker, { force: true }).catch(() => undefined);
  return true;
}

function incomplete(dir: string, marker: string): LayerflatError {
  return new LayerflatError(
    'DEST_INCOMPLETE',
    `${dir} is marked as an unpack that did not finish (${marker} is there): ` +
      `remove both (rm -rf ${dir} ${marker}) and unpack again`,
  );
}

async function lexists(p: string): Promise<boolean> {
  try {
    await fs.promises.lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(p)).isDirectory();
  } catch {
    return false;
  }
}
