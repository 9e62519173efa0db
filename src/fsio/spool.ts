/**
 * Private temporary directories in --tmp-dir (or the OS's), and spooling a stream (stdin) once
 * into a file there, because every archive format needs random access: a docker-archive's
 * manifest.json may come last, and layers are read where they lie. Only the directory made here
 * is ever removed, never tmpDir itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asLayerflatError } from '../errors.js';
import { TarFileWriter } from '../tar/archive-file-writer.js';
import { forgetTemp, registerTemp, removeTemp } from './cleanup.js';
import { removeStaleTemps, spoolDirName } from './temp-names.js';

/** A spooled copy of a stream; `remove()` deletes it (idempotent). */
export interface Spooled {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * Create a private temporary directory "layerflat-LABEL-HOST-PID-…" in `tmpDir` (default: the
 * OS's), registered as ours; stale ones of dead layerflat processes there go first. The caller
 * removes it with `removeTemp`.
 */
export async function makePrivateTempDir(tmpDir: string | undefined, label: 'spool' | 'out'): Promise<string> {
  const parent = tmpDir ?? os.tmpdir();
  await removeStaleTemps(parent, ['spool']);
  const dir = path.join(parent, spoolDirName(label));
  registerTemp(dir);
  try {
    await fs.promises.mkdir(dir, { mode: 0o700 });
    return dir;
  } catch (err) {
    forgetTemp(dir);
    throw asLayerflatError(err, `creating a temporary directory in ${parent}`);
  }
}

/**
 * Copy `input` (stdin, or what a daemon streams) to a new temporary file in `tmpDir`; removes it
 * again if the copy fails. `label` names the input in messages.
 */
export async function spoolToFile(
  input: Readable,
  tmpDir: string | undefined,
  name = 'stdin.tar',
  label = 'stdin',
): Promise<Spooled> {
  const dir = await makePrivateTempDir(tmpDir, 'spool');
  const file = path.join(dir, name);
  const remove = () => removeTemp(dir);
  try {
    await pipeline(input, fs.createWriteStream(file, { flags: 'wx' }));
  } catch (err) {
    await remove();
    throw asLayerflatError(err, `spooling ${label} into ${dir}`);
  }
  return { path: file, remove };
}

/**
 * Build an archive whole in a private directory of `tmpDir`, for outputs that cannot stream as
 * they are made (a compressed layer's size is known only once written, --verify reads the
 * archive back, an engine loads a file), hand the finished file and what `fill` returned to
 * `use`, then remove the directory, used or not. Returns what `fill` returned and the size.
 */
export async function withArchiveInPrivateDir<T>(
  tmpDir: string | undefined,
  fill: (writer: TarFileWriter) => Promise<T>,
  use: (file: string, result: T) => Promise<void>,
): Promise<{ result: T; size: number }> {
  const dir = await makePrivateTempDir(tmpDir, 'out');
  try {
    const file = path.join(dir, 'image.tar');
    const built = await TarFileWriter.write(file, fill);
    await use(file, built.result);
    return built;
  } finally {
    await removeTemp(dir).catch(() => undefined);
  }
}
