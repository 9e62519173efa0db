/**
 * Names of layerflat's temporary files and directories, and the removal of stale ones.
 *
 * Every temporary carries the tag `layerflat-HOST-PID-RANDOM`, in one of three shapes:
 * - beside a destination: `.NAME.layerflat-HOST-PID-RANDOM.tmp` (a file or a staged layout,
 *   also an OCI layout's `.index.json.…tmp` and lock files);
 * - a staging directory inside an OCI layout: `.layerflat-HOST-PID-RANDOM`;
 * - a private directory in --tmp-dir: `layerflat-spool-HOST-PID-RANDOM` (stdin), `layerflat-out-…`
 *   (an archive built for stdout).
 * After a kill -9 nothing could remove them, so the next run that writes to the same place
 * removes those whose process is gone — only names of exactly these shapes, only of this host
 * (another host's pid means nothing here, e.g. on NFS), and only when that pid is not a running
 * process. The tag is read at the end of the name, so a DEST that is itself named like a
 * temporary cannot make a live process's temporary look stale.
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
 * (between characters, never inside one) so the whole fits NAME_MAX bytes even for a DEST name
 * that is itself 255 bytes long.
 */
export function tempNameBeside(dest: string): string {
  const tag = `.${tempTag()}.tmp`;
  const room = NAME_MAX - Buffer.byteLength(tag) - 1;
  const chars = [...path.basename(dest)];
  let size = Buffer.byteLength(chars.join(''));
  while (size > room) size -= Buffer.byteLength(chars.pop()!);
  return path.join(path.dirname(dest), `.${chars.join('')}${tag}`);
}

/** The name of a private directory for --tmp-dir: "layerflat-LABEL-HOST-PID-RANDOM". */
export function spoolDirName(label: 'spool' | 'out'): string {
  return `layerflat-${label}-${tempTag().slice('layerflat-'.length)}`;
}

/** Which temporaries a place holds (see the file comment). */
export type TempKind = 'beside' | 'staging' | 'spool';

const TAG = String.raw`layerflat-([A-Za-z0-9_.]+)-(\d+)-[0-9a-f]{8}`;
const SHAPES: Readonly<Record<TempKind, RegExp>> = {
  beside: new RegExp(String.raw`^\..+\.${TAG}\.tmp$`),
  staging: new RegExp(String.raw`^\.${TAG}$`),
  spool: new RegExp(String.raw`^layerflat-(?:spool|out)-${TAG.slice('layerflat-'.length)}$`),
};

/** The host and pid that made a temporary named `name`, if it has one of the `kinds` shapes. */
export function parseTempName(
  name: string,
  kinds: readonly TempKind[] = ['beside', 'staging', 'spool'],
): { host: string; pid: number } | undefined {
  for (const kind of kinds) {
    const m = SHAPES[kind].exec(name);
    if (m) return { host: m[1]!, pid: Number(m[2]) };
  }
  return undefined;
}

/** Whether a process with this pid runs here now (EPERM: it runs, as another user). */
export function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the entries of `dir` that are temporaries (of the given kinds) of a layerflat process on
 * this host that no longer runs. Best effort: an entry that cannot be removed is left; nothing
 * else in `dir` is ever touched. Returns the paths removed.
 */
export async function removeStaleTemps(dir: string, kinds: readonly TempKind[]): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const host = hostTag();
  const removed: string[] = [];
  for (const name of names) {
    const owner = parseTempName(name, kinds);
    if (!owner || owner.host !== host || processRuns(owner.pid)) continue;
    const p = path.join(dir, name);
    try {
      await fs.promises.rm(p, { recursive: true, force: true, maxRetries: 2 });
      removed.push(p);
    } catch {
      // someone else's problem now; never fail a run over a stale temporary
    }
  }
  return removed;
}
