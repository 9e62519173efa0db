/**
 * A lock file for read-modify-write of a shared file (an OCI layout's index.json), across
 * processes and without root. The lock is a file holding "HOST PID", put in place whole: written
 * under a temporary name, then hard-linked to the lock's name (link(2) fails if it exists, on
 * local filesystems and NFS alike), so a lock file is never seen empty. A holder on this host
 * that no longer runs (kill -9, a crash) left a stale lock, which is taken over; a live holder is
 * waited for; a holder on another host is never broken (its pid means nothing here) — after the
 * timeout we fail with a message naming the file and the holder.
 *
 * Breaking a stale lock is itself serialised by a second lock file ("LOCK.break", held for the
 * moment it takes to re-read and remove the stale lock), so two processes that both saw the same
 * stale lock can never remove a fresh one taken in between.
 */
import fs from 'node:fs';
import { asLayerflatError, LayerflatError, type ErrorCode } from '../errors.js';
import { forgetTemp, registerTemp } from './cleanup.js';
import { hostTag, processRuns, tempNameBeside } from './temp-names.js';

export interface LockOptions {
  /** How long to wait for another holder before failing (default 120 s). */
  timeoutMs?: number;
  /** The error code when the lock stays held past the timeout (default IO). */
  busyCode?: ErrorCode;
}

/** Run `work` holding the lock file `lockPath`; the lock is released however `work` ends. */
export async function withLock<T>(lockPath: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const me = `${hostTag()} ${process.pid}\n`;
  for (let wait = 5; ; wait = Math.min(wait * 2, 50)) {
    if (await tryCreate(lockPath, me)) break;
    const holder = await readHolder(lockPath);
    if (holder === undefined) continue; // released just now: try again at once
    if (isStale(holder)) {
      await breakStale(lockPath, holder, me);
      continue;
    }
    if (Date.now() > deadline) {
      throw new LayerflatError(
        options.busyCode ?? 'IO',
        `${lockPath} is held by ${describeHolder(holder)}; if no layerflat runs there, remove the file and try again`,
      );
    }
    await new Promise((r) => setTimeout(r, wait + Math.floor(Math.random() * wait)));
  }
  registerTemp(lockPath); // an interrupted run releases it too (cli/signals.ts)
  try {
    return await work();
  } finally {
    await release(lockPath, me);
    forgetTemp(lockPath);
  }
}

/** Create `lockPath` holding `content`, whole, unless it exists. */
async function tryCreate(lockPath: string, content: string): Promise<boolean> {
  const temp = tempNameBeside(lockPath);
  registerTemp(temp);
  try {
    await fs.promises.writeFile(temp, content, { flag: 'wx' });
    await fs.promises.link(temp, lockPath);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes(code ?? '')) {
      throw asLayerflatError(err, `locking ${lockPath}`);
    }
    // No hard links here: create it exclusively (a reader may then see it empty, and waits).
    return fs.promises.writeFile(lockPath, content, { flag: 'wx' }).then(
      () => true,
      (e: unknown) => {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw asLayerflatError(e, `locking ${lockPath}`);
      },
    );
  } finally {
    await fs.promises.rm(temp, { force: true });
    forgetTemp(temp);
  }
}

/** The lock's content; undefined if there is no lock file now. */
async function readHolder(lockPath: string): Promise<string | undefined> {
  try {
    return await fs.promises.readFile(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw asLayerflatError(err, `reading the lock ${lockPath}`);
  }
}

/** Remove the lock if it is still ours (it always is while we run, unless someone removed it by hand). */
async function release(lockPath: string, me: string): Promise<void> {
  if ((await readHolder(lockPath).catch(() => undefined)) === me) await fs.promises.rm(lockPath, { force: true });
}

/**
 * Remove a stale lock whose content was `seen`, holding LOCK.break while re-checking it. Whoever
 * cannot take LOCK.break returns and retries (a LOCK.break whose holder died is removed first).
 */
async function breakStale(lockPath: string, seen: string, me: string): Promise<void> {
  const guard = `${lockPath}.break`;
  if (!(await tryCreate(guard, me))) {
    const breaker = await readHolder(guard);
    if (breaker !== undefined && isStale(breaker)) await fs.promises.rm(guard, { force: true });
    await new Promise((r) => setTimeout(r, 1));
    return;
  }
  try {
    const now = await readHolder(lockPath);
    if (now === seen && isStale(now)) await fs.promises.rm(lockPath, { force: true });
  } finally {
    await fs.promises.rm(guard, { force: true });
  }
}

function parseHolder(holder: string): { host: string; pid: number } | undefined {
  const m = /^(\S+) (\d+)\n$/.exec(holder);
  return m ? { host: m[1]!, pid: Number(m[2]) } : undefined;
}

/** A lock whose holder is a process on this host that no longer runs (an empty file is being written). */
function isStale(holder: string): boolean {
  const h = parseHolder(holder);
  return h !== undefined && h.host === hostTag() && !processRuns(h.pid);
}

function describeHolder(holder: string): string {
  const h = parseHolder(holder);
  if (!h) return 'an unknown process';
  return h.host === hostTag() ? `process ${h.pid}` : `process ${h.pid} on host ${h.host}`;
}
