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
