/**
 * Writing an output under a temporary name beside DEST and renaming it into place only when it
 * is complete, so DEST is either untouched or whole. The temporary lives in DEST's own directory
 * (same filesystem, so the rename is atomic), is created exclusively by us, and is the only thing
 * ever removed — on error, on discard and on SIGINT/SIGTERM. An existing DEST is refused with
 * DEST_EXISTS unless `force`; a directory is never replaced by a file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LayerflatError, asLayerflatError } from '../errors.js';
import { forget, removeOnSignal, removeTemp } from './cleanup.js';

/** An output being built at `temp`, to become `dest` on commit. */
export interface StagedOutput {
  readonly dest: string;
  readonly temp: string;
  /** Move `temp` into place; fails with DEST_EXISTS if DEST appeared meanwhile (without force). */
  commit(): Promise<void>;
  /** Remove `temp`; safe to call after a failed or successful commit. */
  discard(): Promise<void>;
}

async function lstatOrUndefined(p: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw asLayerflatError(err, p);
  }
}

function exists(dest: string, why: string): LayerflatError {
  return new LayerflatError('DEST_EXISTS', `${dest} ${why}`);
}

/** A fresh name beside `dest`: ".NAME.layerflat-XXXXXXXX.tmp". */
function tempNameFor(dest: string): string {
  const suffix = crypto.randomBytes(4).toString('hex');
  return path.join(path.dirname(dest), `.${path.basename(dest)}.layerflat-${suffix}.tmp`);
}

async function checkParent(dest: string): Promise<void> {
  const parent = path.dirname(path.resolve(dest));
  const st = await lstatOrUndefined(parent);
  if (!st) throw new LayerflatError('NOT_FOUND', `cannot write ${dest}: directory ${parent} does not exist`);
}

/** Move a file into place without replacing anything unless `force` (link fails on EEXIST). */
async function placeFile(temp: string, dest: string, force: boolean): Promise<void> {
  if (force) return fs.promises.rename(temp, dest);
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
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
          throw exists(dest, 'appeared while writing and is not replaceable; nothing was changed');
        }
        throw asLayerflatError(err, `renaming ${temp} to ${dest}`);
      }
      forget(temp);
    },
    discard: () => removeTemp(temp),
  };
}

/**
 * Stage a FILE output: check DEST (absent, or a non-directory with force) and create an empty
 * temporary file beside it.
 */
export async function stageFile(dest: string, force: boolean): Promise<StagedOutput> {
  const st = await lstatOrUndefined(dest);
  if (st?.isDirectory()) throw exists(dest, 'is a directory; layerflat will not replace a directory with a file');
  if (st && !force) throw exists(dest, 'already exists; pass --force to replace it');
  await checkParent(dest);
  const temp = tempNameFor(dest);
  removeOnSignal(temp);
  await fs.promises.writeFile(temp, '', { flag: 'wx' }).catch((err) => {
    forget(temp);
    throw asLayerflatError(err, `creating ${temp}`);
  });
  return staged(dest, temp, () => placeFile(temp, dest, force));
}

/**
 * Stage a new DIRECTORY output: DEST must be absent or an empty directory (which the rename
 * replaces atomically); anything else is DEST_EXISTS, force or not.
 */
export async function stageDirectory(dest: string): Promise<StagedOutput> {
  const st = await lstatOrUndefined(dest);
  if (st && !st.isDirectory()) throw exists(dest, 'exists and is not a directory; layerflat will not replace it');
  if (st && (await fs.promises.readdir(dest)).length > 0) throw exists(dest, 'exists and is not empty');
  await checkParent(dest);
  const temp = tempNameFor(dest);
  removeOnSignal(temp);
  await fs.promises.mkdir(temp).catch((err) => {
    forget(temp);
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
