/**
 * Free bytes of the filesystem a directory is on, for the space check before `podman save`.
 * fs.statfs exists from Node 18.15; Node 16 (RHEL 7's newest) has none, so there `df -PB1 DIR`
 * (POSIX output, 1-byte blocks; coreutils 8.22 on RHEL 7 has both flags) answers instead.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { parseDfAvailable } from './output.js';

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
