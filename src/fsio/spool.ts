/**
 * Spooling a stream (stdin) once into a temporary file, because every archive format needs
 * random access: a docker-archive's manifest.json may come last, and layers are read where they
 * lie. The file lives in a fresh directory made by us inside tmpDir; only that directory is
 * removed, never tmpDir itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asLayerflatError } from '../errors.js';
import { removeOnSignal, removeTemp } from './cleanup.js';

/** A spooled copy of a stream; `remove()` deletes it (idempotent). */
export interface Spooled {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * Create a private temporary directory in `tmpDir` (default: the OS's), registered for removal
 * on SIGINT/SIGTERM. The caller removes it with `removeTemp`.
 */
export async function makePrivateTempDir(tmpDir: string | undefined, label: string): Promise<string> {
  const parent = tmpDir ?? os.tmpdir();
  try {
    const dir = await fs.promises.mkdtemp(path.join(parent, `layerflat-${label}-`));
    removeOnSignal(dir);
    return dir;
  } catch (err) {
    throw asLayerflatError(err, `creating a temporary directory in ${parent}`);
  }
}

/** Copy `input` to a new temporary file in `tmpDir`; removes it again if the copy fails. */
export async function spoolToFile(input: Readable, tmpDir: string | undefined, name = 'stdin.tar'): Promise<Spooled> {
  const dir = await makePrivateTempDir(tmpDir, 'spool');
  const file = path.join(dir, name);
  const remove = () => removeTemp(dir);
  try {
    await pipeline(input, fs.createWriteStream(file, { flags: 'wx' }));
  } catch (err) {
    await remove();
    throw asLayerflatError(err, 'spooling standard input');
  }
  return { path: file, remove };
}
