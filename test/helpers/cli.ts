/**
 * Running the built command line from tests, several at once: its result, a process to stall or
 * kill, images built in code, and listings that prove what a run left behind.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { configFor, toTar } from '../transports/handmade.js';
import { buildTar, type EntrySpec } from './tar-builder.js';

const BIN = path.resolve('dist/cli/main.js');

/** Build dist/ if a test file runs alone before `npm run build`. */
export function ensureBuilt(): void {
  if (!fs.existsSync(BIN)) spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface CliOptions {
  input?: Buffer;
  env?: NodeJS.ProcessEnv;
  /** Extra node options before the script (e.g. --import a hook). */
  node?: string[];
  uid?: number;
  gid?: number;
}

/** Start the CLI; stdin stays open (for stalling) unless `input` is given, which is written and closed. */
export function spawnCli(args: string[], o: CliOptions = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [...(o.node ?? []), BIN, ...args], {
    env: o.env ?? process.env,
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid ?? o.uid } : {}),
  });
  child.stdin.on('error', () => undefined); // the CLI may fail before it reads all of stdin
  if (o.input) child.stdin.end(o.input);
  return child;
}

/** What a started CLI ends with (its stdout and stderr read as they come). */
export function finished(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  return new Promise((resolve) =>
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }),
    ),
  );
}

export function runCli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  return finished(spawnCli(args, { ...o, input: o.input ?? Buffer.alloc(0) }));
}

/** Run `jobs` with at most `width` at once, keeping their order. */
export async function inParallel<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return results;
}

/** A docker-archive ("docker save") of one image whose layers hold `layers`' files. */
function dockerArchive(layers: EntrySpec[][], tag = 'example.com/built:1'): Buffer {
  const tars = layers.map((specs) => buildTar(specs));
  const config = configFor(tars, { history: tars.map(() => ({ created_by: 'test' })) });
  const names = tars.map(
    (_, i) =>
      `${String(i + 1)
        .repeat(64)
        .slice(0, 64)}/layer.tar`,
  );
  const files: Record<string, Buffer> = { 'config.json': config };
  tars.forEach((t, i) => (files[names[i]!] = t));
  files['manifest.json'] = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: [tag], Layers: names }]));
  return toTar(files);
}

/** A small two-layer image (flattens in a blink). */
export function smallImage(): Buffer {
  return dockerArchive([
    [{ path: 'etc/' }, { path: 'etc/os-release', content: 'ID=test\n' }, { path: 'bin/' }],
    [{ path: 'srv/' }, { path: 'srv/app', content: 'app\n' }, { path: 'etc/.wh.os-release' }],
  ]);
}

/** An image with one layer of `mb` MiB of random bytes: writing it (gzip) takes long enough to catch midway. */
export function bigImage(mb = 48): Buffer {
  return dockerArchive([[{ path: 'data/' }, { path: 'data/random', content: crypto.randomBytes(mb << 20) }]]);
}

/** Every path under `dir` with its type, size and content hash: equal listings mean nothing changed. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isDirectory()) {
        out.push(`${rel}/`);
        walk(p);
      } else if (st.isFile()) {
        out.push(`${rel} ${st.size} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
      } else out.push(`${rel} (${st.mode.toString(8)})`);
    }
  };
  walk(dir);
  return out;
}
