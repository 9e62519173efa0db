/**
 * A lock file for read-modify-write of a shared file (an OCI layout's index.json), across
 * processes and without root: the lock is a file created exclusively (O_EXCL works on local
 * filesystems and NFSv3+), holding "HOST PID". A holder on this host that no longer runs left a
 * stale lock, which is taken over; otherwise we wait, and give up with a message naming the file.
 */
import fs from 'node:fs';
import { asLayerflatError, LayerflatError } from '../errors.js';
import { hostTag } from './temp-names.js';

export interface LockOptions {
  /** How long to wait for another holder before failing (default 120 s). */
  timeoutMs?: number;
}

/** Run `work` holding the lock file `lockPath`; the lock is released however `work` ends. */
export async function withLock<T>(lockPath: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const me = `${hostTag()} ${process.pid}\n`;
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    try {
      await fs.promises.writeFile(lockPath, me, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw asLayerflatError(err, `locking ${lockPath}`);
    }
    const holder = await fs.promises.readFile(lockPath, 'utf8').catch(() => '');
    if (isStale(holder)) {
      await breakStale(lockPath, holder);
      continue;
    }
    if (Date.now() > deadline) {
      const who = holder.trim() || 'an unknown process';
      throw new LayerflatError(
        'IO',
        `${lockPath} is held by ${who}; if no layerflat is running there, remove the file and try again`,
      );
    }
    await new Promise((r) => setTimeout(r, wait + Math.floor(Math.random() * wait)));
  }
  try {
    return await work();
  } finally {
    await fs.promises.rm(lockPath, { force: true });
  }
}

/**
 * Remove a stale lock. Only one process can rename it away; if what it moved is not the stale
 * lock it saw (another process took the stale lock over in between), it puts that one back.
 */
async function breakStale(lockPath: string, seen: string): Promise<void> {
  const aside = `${lockPath}.stale-${hostTag()}-${process.pid}`;
  const moved = await fs.promises.rename(lockPath, aside).then(
    () => true,
    () => false,
  );
  if (!moved) return;
  const got = await fs.promises.readFile(aside, 'utf8').catch(() => seen);
  if (got !== seen) await fs.promises.link(aside, lockPath).catch(() => undefined);
  await fs.promises.rm(aside, { force: true });
}

/** A lock whose holder is a process on this host that no longer runs (an empty file is being written). */
function isStale(holder: string): boolean {
  const m = /^(\S+) (\d+)\n$/.exec(holder);
  if (!m || m[1] !== hostTag()) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EPERM';
  }
}
