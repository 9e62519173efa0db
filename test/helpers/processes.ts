/**
 * Processes for tests of what layerflat leaves behind: the pid of one that has exited (what a
 * kill -9 leaves in a temporary's name) and one that is still running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';

/** The pid of a process that ran and has exited (so no process has it, barring reuse). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  if (r.pid === undefined) throw new Error('could not start a process');
  return r.pid;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const c of running.splice(0)) c.kill('SIGKILL');
});

/** The pid of a process that keeps running until the test ends. */
export function livePid(): number {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
  running.push(child);
  if (child.pid === undefined) throw new Error('could not start a process');
  return child.pid;
}

/** Wait until `check` holds, polling every few milliseconds; fails after `ms`. */
export async function until(check: () => boolean, ms = 20_000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
