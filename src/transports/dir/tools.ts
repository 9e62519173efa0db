/**
 * The two system programs unpack needs, because Node has no API for what they do and native
 * addons are out: `setfattr` (package attr) for extended attributes, `mknod` (coreutils) for
 * device nodes and fifos. Both run with LC_ALL=C so their messages can be read.
 */
import { spawn } from 'node:child_process';
import { findExecutable } from '../../compress/tools.js';
import { LayerflatError } from '../../errors.js';

/** Bytes a getfattr --dump file writes as they are: printable ASCII but "\", "=", "#" and space. */
function plainByte(b: number): boolean {
  return b > 0x20 && b < 0x7f && b !== 0x5c && b !== 0x3d && b !== 0x23;
}

/**
 * A path or attribute name as getfattr --dump writes it and setfattr --restore reads it back:
 * any other byte as a backslash and three octal digits. `binary` is a binary (latin1) string, so
 * names that are not UTF-8, hold newlines or end in spaces survive. The output is ASCII.
 */
export function dumpQuote(binary: string): string {
  let out = '';
  for (let i = 0; i < binary.length; i++) {
    const b = binary.charCodeAt(i) & 0xff;
    out += plainByte(b) ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** One path's attributes in the --dump format (paths relative to the directory setfattr runs in). */
export function dumpRecord(path: string, xattrs: Iterable<readonly [string, Buffer]>): string {
  const lines = [`# file: ${path === '' ? '.' : `./${dumpQuote(path)}`}`];
  for (const [name, value] of xattrs) lines.push(`${dumpQuote(name)}=0s${value.toString('base64')}`);
  return `${lines.join('\n')}\n\n`;
}

/** How a program ran: its exit status and what it said on stderr. */
interface Ran {
  code: number | null;
  stderr: string;
}

function run(program: string, args: readonly string[], cwd: string, input?: Iterable<string>): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd,
      env: { ...process.env, LC_ALL: 'C' },
      stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'],
      windowsHide: true,
    });
    const err: Buffer[] = [];
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr: Buffer.concat(err).toString('utf8') }));
    if (input) void feed(child.stdin!, input);
  });
}

/** Write `parts` to a child's stdin with backpressure, then close it (a program that quits early ends it). */
async function feed(stdin: NodeJS.WritableStream, parts: Iterable<string>): Promise<void> {
  let gone = false;
  stdin.on('error', () => (gone = true));
  for (const part of parts) {
    if (gone) return;
    if (!stdin.write(part)) await new Promise((r) => stdin.once('drain', r));
  }
  stdin.end();
}

/** The setfattr program, or undefined when it is not installed. */
export function findSetfattr(): string | undefined {
  return findExecutable('setfattr');
}

export function setfattrMissing(): LayerflatError {
  return new LayerflatError(
    'MISSING_TOOL',
    'the image has extended attributes (file capabilities among them, maybe) and setting them needs the ' +
      '`setfattr` program, which was not found on PATH; install it (Debian/Ubuntu: "apt-get install attr", ' +
      'RHEL/Fedora: "dnf install attr", Alpine: "apk add attr"), or pass --no-xattrs to unpack without them',
  );
}

/**
 * Set the attributes of many paths under `dir` in one run of `setfattr -h --restore=-` (never
 * following a symlink: -h acts on the link itself). `records` are dumpRecord texts.
 */
export async function restoreXattrs(setfattr: string, dir: string, records: Iterable<string>): Promise<void> {
  const ran = await run(setfattr, ['-h', '--restore=-'], dir, records).catch((err: unknown) => {
    throw new LayerflatError('IO', `cannot run ${setfattr}: ${(err as Error).message}`, { cause: err });
  });
  if (ran.code === 0) return;
  const lines = ran.stderr.split('\n').filter((l) => l.trim() !== '');
  const first = lines[0] ?? `exit status ${String(ran.code)}`;
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more)` : '';
  throw new LayerflatError(
    'IO',
    `setting extended attributes in ${dir}: ${first.trim()}${more}; ` +
      'pass --no-xattrs to unpack without extended attributes',
  );
}

/** The mknod program (coreutils), or MISSING_TOOL. */
export function requireMknod(): string {
  const found = findExecutable('mknod');
  if (found === undefined) {
    throw new LayerflatError(
      'MISSING_TOOL',
      'the image has device nodes or fifos, and making them needs the `mknod` program (coreutils), ' +
        'which was not found on PATH',
    );
  }
  return found;
}

export type NodeKind = { kind: 'fifo' } | { kind: 'chardev' | 'blockdev'; major: number; minor: number };

/**
 * Make a device node or fifo called `name` (a plain ASCII name: a program's arguments cannot carry
 * every byte a tar name can) in `dir`, mode 0600. 'not-permitted' when the kernel refuses (a
 * device node without CAP_MKNOD, in a user namespace, for instance).
 */
export async function mknod(
  program: string,
  dir: string,
  name: string,
  node: NodeKind,
): Promise<'made' | 'not-permitted'> {
  const args = ['-m', '600', '--', name];
  if (node.kind === 'fifo') args.push('p');
  else args.push(node.kind === 'chardev' ? 'c' : 'b', String(node.major), String(node.minor));
  const ran = await run(program, args, dir).catch((err: unknown) => {
    throw new LayerflatError('IO', `cannot run ${program}: ${(err as Error).message}`, { cause: err });
  });
  if (ran.code === 0) return 'made';
  if (/Operation not permitted/.test(ran.stderr)) return 'not-permitted';
  throw new LayerflatError('IO', `making a ${node.kind} in ${dir}: ${ran.stderr.trim() || `exit status ${ran.code}`}`);
}
