/**
 * Free bytes of the filesystem a directory is on, for the space checks (before `podman save`,
 * before each image of `reclaim`).
 * fs.statfs exists from Node 18.15; Node 16 (RHEL 7's newest) has none, so there `df -PB1 DIR`
 * (POSIX output, 1-byte blocks; coreutils 8.22 on RHEL 7 has both flags) answers instead.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';

type StatFs = (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;

/** Free bytes an unprivileged user may use in `dir`, or undefined when neither way can tell. */
export async function freeBytes(dir: string): Promise<number | undefined> {
  const statfs = (fs.promises as { statfs?: StatFs }).statfs;
  if (statfs) {
    const st = await statfs(dir).catch(() => undefined);
    if (st) return Number(st.bavail) * Number(st.bsize);
  }
  return freeBytesByDf(dir);
}

/** `df -PB1 DIR`'s "Available" (what Node 16 has to go on). */
export function freeBytesByDf(dir: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('df', ['-PB1', dir], { windowsHide: true }, (err, stdout) =>
      resolve(err ? undefined : parseDfAvailable(stdout)),
    );
  });
}

/** Free bytes of the filesystem `df -PB1 DIR` reports on: the "Available" column of its one row. */
export function parseDfAvailable(stdout: string): number | undefined {
  const lines = stdout.trim().split('\n');
  if (lines.length < 2 || !/\bAvail/.test(lines[0]!)) return undefined;
  // -P keeps the row on one line; the numbers are found by their shape ("SIZE USED AVAIL N%"),
  // so spaces in the device or mount point cannot shift them
  const row = ` ${lines.slice(1).join(' ')} `;
  const m = /\s(\d+)\s+(\d+)\s+(\d+)\s+(?:\d+%|-)\s/.exec(row);
  const available = m ? Number(m[3]) : NaN;
  return Number.isSafeInteger(available) ? available : undefined;
}
