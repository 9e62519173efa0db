/**
 * Names of layerflat's temporary files and directories, and the removal of stale ones.
 *
 * Every temporary is named `…layerflat-HOST-PID-RANDOM…`: after a kill -9 nothing could remove
 * it, so the next run that writes to the same place removes those whose process is gone — but
 * only on the same host (another host's pid means nothing here, e.g. on NFS), only names that
 * match exactly, and only when that pid is not a running process.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The host part of our names: the hostname, reduced to characters safe in a file name. */
export function hostTag(): string {
  return (os.hostname() || 'host').replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 64);
}

/** "layerflat-HOST-PID-RANDOM": what every temporary name of this process carries. */
export function tempTag(): string {
  return `layerflat-${hostTag()}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

const NAME_MAX = 255;

/**
 * A fresh temporary name beside `dest`: ".NAME.layerflat-HOST-PID-RANDOM.tmp", with NAME cut
 * (at a character boundary) so the whole fits NAME_MAX bytes even for a 250-byte DEST name.
 */
export function tempNameBeside(dest: string): string {
  const tag = `.${tempTag()}.tmp`;
  let base = path.basename(dest);
  const room = NAME_MAX - Buffer.byteLength(tag) - 1;
  while (Buffer.byteLength(base) > room) base = base.slice(0, -1);
  return path.join(path.dirname(dest), `.${base}${tag}`);
}

/** Whether a process with this pid runs here now (EPERM: it runs, as another user). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const TAG = /layerflat-([A-Za-z0-9_.]+)-(\d+)-[0-9a-f]{8}/;

/**
 * Remove the entries of `dir` that are temporaries of a layerflat process on this host that no
 * longer runs. `isOurs` further restricts which names count (e.g. a prefix). Best effort: an entry
 * that cannot be removed is left; nothing else in `dir` is ever touched.
 */
export async function removeStaleTemps(dir: string, isOurs: (name: string) => boolean = () => true): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const host = hostTag();
  const removed: string[] = [];
  for (const name of names) {
    const m = TAG.exec(name);
    if (!m || m[1] !== host || !isOurs(name) || alive(Number(m[2]))) continue;
    const p = path.join(dir, name);
    try {
      await fs.promises.rm(p, { recursive: true, force: true });
      removed.push(p);
    } catch {
      // someone else's problem now; never fail a run over a stale temporary
    }
  }
  return removed;
}
