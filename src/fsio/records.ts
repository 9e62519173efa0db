/**
 * A directory of small JSON records, each written whole: to a temporary name, fsync'd, renamed
 * over the record, and the directory fsync'd — so after a crash or kill -9 a record is either the
 * old one or the new one, never a torn file. reclaim keeps its journal this way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { asLayerflatError } from '../errors.js';
import { tempNameBeside } from './temp-names.js';

/** Make `dir` (and its parents), private to the user. */
export async function ensureDir(dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw asLayerflatError(err, `creating ${dir}`);
  });
}

/** Write `value` as `dir/name`, atomically and durably. */
export async function writeRecord(dir: string, name: string, value: unknown): Promise<void> {
  const file = path.join(dir, name);
  const temp = tempNameBeside(file);
  try {
    const fh = await fs.promises.open(temp, 'wx', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(temp, file);
    await syncDir(dir);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw asLayerflatError(err, `writing ${file}`);
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync().catch(() => undefined); // some filesystems cannot sync a directory
  } finally {
    await fh.close();
  }
}

/** Every `*.json` record of `dir` as parsed JSON, by name; a record that does not parse is `undefined`. */
export async function readRecords(dir: string): Promise<Map<string, unknown>> {
  const names = await fs.promises.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw asLayerflatError(err, `reading ${dir}`);
  });
  const out = new Map<string, unknown>();
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const text = await fs.promises.readFile(path.join(dir, name), 'utf8');
    try {
      out.set(name, JSON.parse(text));
    } catch {
      out.set(name, undefined);
    }
  }
  return out;
}

/** Remove the record `dir/name` (durably); missing is fine. */
export async function removeRecord(dir: string, name: string): Promise<void> {
  await fs.promises.rm(path.join(dir, name), { force: true });
  await syncDir(dir).catch(() => undefined);
}
