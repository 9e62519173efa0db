/**
 * The CLI on every Node it supports. The bundle (npm run bundle) under Node 16.20.2, 18 and 24,
 * and the RHEL 7 tarball's launcher (npm run package), run the same scenarios as the default
 * Node's dist/ build; exit codes, stdout, stderr and every file written must be byte-identical.
 * Vitest itself needs Node >= 20, so the other Nodes run the CLI as child processes.
 *
 * The one documented difference: a Node whose zlib is not the reference's (Node 16 has 1.2.11)
 * writes other gzip bytes. For those runs a gzip output must hold the same image: the same
 * config blob, the same manifest but for the compressed layer's digest and size, and `verify`
 * (by the reference build) finds the two the same filesystem.
 *
 * Run by `npm run test:nodes` (scripts/nodes/test.sh builds the bundle and the tarball first).
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve('.');
const FIX = path.join(ROOT, 'test/fixtures');
const VERSION = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;
const TARBALL = path.join(ROOT, `dist/layerflat-${VERSION}-linux-x64.tar.gz`);
const BUNDLE = path.join(ROOT, 'dist/bundle/layerflat.mjs');
const NODES = (process.env.LAYERFLAT_NODE_VERSIONS ?? '16.20.2 18.20.8 24.22.3').split(/\s+/).filter(Boolean);
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-nodes-'));

interface Runner {
  name: string;
  command: string[];
  zlib: string;
}

interface Step {
  args: string[];
  /** A file fed to stdin. */
  stdin?: string;
  /** Feed only the first half of stdin, keep it open, and send this signal once the run spools it. */
  interrupt?: NodeJS.Signals;
  code: number;
}

interface Scenario {
  name: string;
  steps: Step[];
  /** Files (relative to the run's directory) compared after the steps; stdout is always compared. */
  files?: string[];
  /** The outputs hold a gzip layer: on a Node with another zlib they are compared as images. */
  gzip?: 'oci-layout' | 'oci-archive' | 'docker-archive';
}

interface Outcome {
  dir: string;
  steps: { code: number | null; spooling?: boolean; stdout: string; stderr: string }[];
  files: Record<string, string>;
  /** What the run's directory holds at the end. */
  left: string[];
}

const flat = (...extra: string[]): Step => ({ args: ['flatten', `${FIX}/docker-rules.tar`, ...extra], code: 0 });

const SCENARIOS: Scenario[] = [
  {
    name: 'version and help',
    steps: [
      { args: ['--version'], code: 0 },
      { args: ['flatten', '--help'], code: 0 },
    ],
  },
  { name: 'docker-archive to docker-archive', steps: [flat('out.tar')], files: ['out.tar'] },
  { name: 'flatten --json', steps: [flat('out.tar', '--json')], files: ['out.tar'] },
  { name: 'flatten --verify', steps: [flat('out.tar', '--verify')], files: ['out.tar'] },
  { name: 'keep-base and tags', steps: [flat('out.tar', '--keep-base', '3', '-t', 'a/b:1', '-t', 'c:2')] },
  { name: 'podman-made source', steps: [{ args: ['flatten', `${FIX}/podman-rules.tar`, 'out.tar'], code: 0 }] },
  {
    name: 'docker-archive with gzip layer',
    steps: [flat('docker-archive:out.tar', '--compress', 'gzip')],
    files: ['out.tar'],
    gzip: 'docker-archive',
  },
  { name: 'to oci layout (gzip)', steps: [flat('oci:layout:app')], files: ['layout'], gzip: 'oci-layout' },
  {
    name: 'to oci-archive (gzip)',
    steps: [flat('oci-archive:out.oci.tar')],
    files: ['out.oci.tar'],
    gzip: 'oci-archive',
  },
  {
    name: 'to oci-archive (zstd)',
    steps: [flat('oci-archive:out.oci.tar', '--compress', 'zstd')],
    files: ['out.oci.tar'],
  },
  { name: 'to oci-archive (none)', steps: [flat('oci-archive:out.oci.tar', '--compress', 'none')] },
  {
    name: 'oci layout source, zstd source, platform pick',
    steps: [
      { args: ['flatten', `oci:${FIX}/oci-gzip`, 'a.tar'], code: 0 },
      { args: ['flatten', `oci:${FIX}/oci-zstd`, 'b.tar'], code: 0 },
      { args: ['flatten', `oci:${FIX}/oci-multiarch`, 'c.tar', '--platform', 'linux/arm/v7'], code: 0 },
      { args: ['flatten', `oci-archive:${FIX}/rules.oci.tar`, 'd.tar'], code: 0 },
    ],
    files: ['a.tar', 'b.tar', 'c.tar', 'd.tar'],
  },
  { name: 'stdin to stdout', steps: [{ args: ['flatten', '-', '-'], stdin: `${FIX}/docker-rules.tar`, code: 0 }] },
  {
    name: 'stdin to stdout, oci-archive',
    steps: [
      { args: ['flatten', '-', 'oci-archive:-', '--compress', 'none'], stdin: `${FIX}/docker-rules.tar`, code: 0 },
    ],
  },
  {
    name: 'verify: same, different, --json',
    steps: [
      flat('out.tar'),
      { args: ['verify', `${FIX}/docker-rules.tar`, 'out.tar'], code: 0 },
      { args: ['verify', `${FIX}/docker-rules.tar`, 'out.tar', '--json'], code: 0 },
      { args: ['verify', `${FIX}/docker-rules.tar`, `${FIX}/podman-rules.tar`], code: 1 },
      { args: ['verify', `${FIX}/docker-rules.tar`, `${FIX}/podman-rules.tar`, '--json'], code: 1 },
    ],
  },
  {
    name: 'inspect: table, --json, --svg, stdin',
    steps: [
      { args: ['inspect', `${FIX}/docker-rules.tar`], code: 0 },
      { args: ['inspect', `${FIX}/docker-rules.tar`, '--json'], code: 0 },
      { args: ['inspect', `${FIX}/docker-rules.tar`, '--svg', 'cost.svg'], code: 0 },
      { args: ['inspect', '-', '--top', '3'], stdin: `${FIX}/podman-rules.tar`, code: 0 },
    ],
    files: ['cost.svg'],
  },
  {
    name: 'errors: usage, missing, existing dest, damaged, truncated',
    steps: [
      { args: ['flatten'], code: 2 },
      { args: ['flatten', 'a', 'b', 'c'], code: 2 },
      { args: ['flatten', `${FIX}/docker-rules.tar`, 'x.tar', '--compress', 'lz4'], code: 2 },
      { args: ['flatten', 'missing.tar', 'x.tar'], code: 2 },
      { args: ['flatten', 'missing.tar', 'x.tar', '--json'], code: 2 },
      { args: ['flatten', `${FIX}/docker-rules.tar`, 'x.tar'], code: 0 },
      { args: ['flatten', `${FIX}/docker-rules.tar`, 'x.tar'], code: 2 },
      { args: ['flatten', 'DAMAGED', 'y.tar'], code: 2 },
      { args: ['verify', 'DAMAGED', 'x.tar'], code: 2 },
      { args: ['inspect', 'DAMAGED'], code: 2 },
      { args: ['flatten', '-', 'z.tar'], stdin: 'TRUNCATED', code: 2 },
      { args: ['flatten', `${FIX}/docker-rules.tar`, 'oci:nowhere/deeper:x', '--tmp-dir', 'no-such-dir'], code: 2 },
    ],
  },
  {
    name: 'interrupted: SIGTERM and SIGINT leave nothing behind',
    steps: [
      { args: ['flatten', '-', 'out.tar', '--tmp-dir', '.'], interrupt: 'SIGTERM', code: 143 },
      { args: ['flatten', '-', 'oci:layout:app', '--tmp-dir', '.'], interrupt: 'SIGINT', code: 130 },
    ],
  },
];

let runners: Runner[] = [];
let reference: Runner;
const outcomes = new Map<string, Outcome>();

function sh(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

function zlibOf(node: string): string {
  return sh(node, ['-p', 'process.versions.zlib']);
}

/** Timings and the run's own directory are the only output that may differ from run to run. */
function normalize(text: string, dir: string): string {
  return text
    .split(dir)
    .join('<run>')
    .replace(/"seconds": [0-9.e-]+/g, '"seconds": T')
    .replace(/\bin [0-9.]+s\b/g, 'in Ts');
}

function hashTree(p: string): string {
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  const parts = fs
    .readdirSync(p)
    .sort()
    .map((n) => `${n}:${hashTree(path.join(p, n))}`);
  return crypto.createHash('sha256').update(parts.join('\n')).digest('hex');
}

function run(runner: Runner, dir: string, step: Step): Promise<Outcome['steps'][number]> {
  const args = step.args.map((a) => (a === 'DAMAGED' ? path.join(WORK, 'damaged.tar') : a));
  const child = spawn(runner.command[0]!, [...runner.command.slice(1), ...args], { cwd: dir });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.on('error', () => undefined);
  let spooling: boolean | undefined;
  const input = step.stdin === 'TRUNCATED' || step.interrupt ? path.join(WORK, 'truncated.tar') : step.stdin;
  if (step.interrupt) {
    fs.createReadStream(input!).pipe(child.stdin, { end: false });
    // Signal once the run has made its temporary file (or after 30 s, which the test reports).
    const started = Date.now();
    const poll = setInterval(() => {
      spooling = fs.readdirSync(dir).length > 0;
      if (!spooling && Date.now() - started < 30_000) return;
      clearInterval(poll);
      child.kill(step.interrupt);
    }, 50);
  } else if (input) fs.createReadStream(input).pipe(child.stdin);
  else child.stdin.end();
  return new Promise((resolve) =>
    child.on('close', (status, signal) => {
      // A run killed by a signal reports it as a shell would (130 for SIGINT, 143 for SIGTERM).
      const code = signal ? 128 + os.constants.signals[signal] : status;
      const stdout = Buffer.concat(out);
      // Binary stdout (an image) is compared by its digest.
      const text = stdout.includes(0) ? `sha256:${crypto.createHash('sha256').update(stdout).digest('hex')}` : stdout;
      resolve({
        code,
        ...(spooling === undefined ? {} : { spooling }),
        stdout: normalize(text.toString(), dir),
        stderr: normalize(Buffer.concat(err).toString(), dir),
      });
    }),
  );
}

async function outcome(runner: Runner, scenario: Scenario): Promise<Outcome> {
  const dir = path.join(WORK, runner.name.replace(/\W+/g, '-'), scenario.name.replace(/\W+/g, '-'));
  fs.mkdirSync(dir, { recursive: true });
  const steps = [];
  for (const step of scenario.steps) steps.push(await run(runner, dir, step));
  const files = Object.fromEntries((scenario.files ?? []).map((f) => [f, hashTree(path.join(dir, f))]));
  return { dir, steps, files, left: fs.readdirSync(dir).sort() };
}

/** A layer blob's digest and size are the gzip bytes; everything else in a manifest is not. */
function manifestWithoutLayerBlobs(text: string): unknown {
  const m = JSON.parse(text) as { layers?: { digest?: string; size?: number }[] };
  for (const l of m.layers ?? []) if (l.digest !== undefined) Object.assign(l, { digest: 'X', size: 0 });
  return m;
}

/** The config and the manifest of an OCI layout or a docker-archive extracted in `dir`. */
function configAndManifest(dir: string, kind: Scenario['gzip']): { config: string; manifest: unknown } {
  if (kind === 'docker-archive') {
    const [entry] = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { Config: string }[];
    const raw = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8').replace(/[0-9a-f]{64}\.tar/g, 'X');
    return { config: fs.readFileSync(path.join(dir, entry!.Config), 'utf8'), manifest: raw };
  }
  const blob = (digest: string) => fs.readFileSync(path.join(dir, 'blobs', ...digest.split(':')), 'utf8');
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const manifest = blob(index.manifests[0]!.digest);
  const config = blob((JSON.parse(manifest) as { config: { digest: string } }).config.digest);
  return { config, manifest: manifestWithoutLayerBlobs(manifest) };
}

async function sameImage(scenario: Scenario, ref: Outcome, got: Outcome): Promise<void> {
  for (const f of scenario.files ?? []) {
    const open = async (o: Outcome, side: string): Promise<string> => {
      if (scenario.gzip === 'oci-layout') return path.join(o.dir, f);
      const into = path.join(got.dir, `extracted-${side}-${f}`);
      fs.mkdirSync(into, { recursive: true });
      await tar.x({ file: path.join(o.dir, f), cwd: into });
      return into;
    };
    const a = configAndManifest(await open(ref, 'ref'), scenario.gzip);
    const b = configAndManifest(await open(got, 'got'), scenario.gzip);
    expect(b.config, `${f}: the config blob`).toBe(a.config);
    expect(b.manifest, `${f}: the manifest but for the layer's blob`).toEqual(a.manifest);
    const imageRef = (o: Outcome) => {
      const p = path.join(o.dir, f);
      return scenario.gzip === 'oci-layout' ? `oci:${p}:app` : scenario.gzip === 'oci-archive' ? `oci-archive:${p}` : p;
    };
    const verify = spawnSync(process.execPath, ['dist/cli/main.js', 'verify', imageRef(ref), imageRef(got)], {
      encoding: 'utf8',
    });
    expect(verify.status, `${f}: verify says ${verify.stdout}${verify.stderr}`).toBe(0);
  }
}

/** A copy of the fixture with one byte of a layer changed, and one cut in the middle. */
function makeBadInputs(): void {
  const good = fs.readFileSync(`${FIX}/docker-rules.tar`);
  const bad = Buffer.from(good);
  for (let off = 0; off < bad.length; off += 512) {
    const name = bad
      .subarray(off, off + 100)
      .toString('latin1')
      .replace(/\0.*$/s, '');
    if (!/layer\.tar$|^blobs\/sha256\/[0-9a-f]{64}$/.test(name)) continue;
    const size = parseInt(bad.subarray(off + 124, off + 136).toString('latin1'), 8);
    if (size < 4096) continue;
    bad[off + 512 + 2048]! ^= 0x01; // a byte of the layer: its digest no longer matches
    break;
  }
  expect(bad.equals(good)).toBe(false);
  fs.writeFileSync(path.join(WORK, 'damaged.tar'), bad);
  fs.writeFileSync(path.join(WORK, 'truncated.tar'), good.subarray(0, Math.floor(good.length / 2)));
}

beforeAll(async () => {
  expect(fs.existsSync(BUNDLE), `${BUNDLE}: run npm run bundle`).toBe(true);
  expect(fs.existsSync(TARBALL), `${TARBALL}: run npm run package`).toBe(true);
  makeBadInputs();
  const unpacked = path.join(WORK, 'unpacked');
  fs.mkdirSync(unpacked);
  await tar.x({ file: TARBALL, cwd: unpacked });
  const launcher = path.join(unpacked, `layerflat-${VERSION}-linux-x64`, 'bin', 'layerflat');
  const shippedNode = path.join(path.dirname(launcher), '..', 'node', 'bin', 'node');
  const dist = path.resolve('dist/cli/main.js');
  reference = { name: 'default node dist', command: [process.execPath, dist], zlib: process.versions.zlib };
  runners = NODES.map((v) => {
    const node = path.join(sh('bash', ['scripts/nodes/fetch.sh', v]), 'bin', 'node');
    return { name: `node ${v} bundle`, command: [node, BUNDLE], zlib: zlibOf(node) };
  });
  runners.push({ name: 'tarball launcher', command: [launcher], zlib: zlibOf(shippedNode) });
  for (const s of SCENARIOS) outcomes.set(s.name, await outcome(reference, s));
}, 600_000);

afterAll(() => fs.rmSync(WORK, { recursive: true, force: true }));

describe('the reference run (default Node, dist/)', () => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s: exit codes as expected', (_, s) => {
    expect(outcomes.get(s.name)!.steps.map((r) => r.code)).toEqual(s.steps.map((st) => st.code));
  });

  it('an interrupted run leaves nothing in its directory (its spool was there: --tmp-dir .)', () => {
    const o = outcomes.get('interrupted: SIGTERM and SIGINT leave nothing behind')!;
    expect(o.steps.map((r) => r.spooling)).toEqual([true, true]);
    expect(o.left).toEqual([]);
  });
});

describe.each(NODES.map((v) => `node ${v} bundle`).concat('tarball launcher'))('%s', (runnerName) => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))(
    '%s: the same as the default Node',
    async (_, scenario) => {
      const runner = runners.find((r) => r.name === runnerName)!;
      const ref = outcomes.get(scenario.name)!;
      const got = await outcome(runner, scenario);
      if (!scenario.gzip || runner.zlib === reference.zlib) {
        expect(got.steps).toEqual(ref.steps);
        expect(got.files).toEqual(ref.files);
        expect(got.left).toEqual(ref.left);
        return;
      }
      // Other gzip bytes: other blob digests and sizes in what is printed, the same image.
      const blind = (steps: Outcome['steps']) =>
        steps.map((r) => {
          const mask = (t: string) =>
            t.replace(/sha256:[0-9a-f]{64}/g, 'sha256:D').replace(/\b\d+(\.\d+)? (B|[KMG]iB)\b/g, 'N B');
          return { code: r.code, stdout: mask(r.stdout), stderr: mask(r.stderr) };
        });
      expect(blind(got.steps)).toEqual(blind(ref.steps));
      await sameImage(scenario, ref, got);
    },
    300_000,
  );
});

describe('the RHEL 7 tarball', () => {
  it('needs nothing newer than glibc 2.17 (scripts/nodes/check-glibc.sh)', () => {
    const r = spawnSync('bash', ['scripts/nodes/check-glibc.sh', TARBALL], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('the check fails for a binary that needs more (Node 18 needs glibc 2.28)', () => {
    const v18 = NODES.find((v) => v.startsWith('18.'));
    if (!v18) return console.log('skipped: no Node 18 in LAYERFLAT_NODE_VERSIONS to build a bad tarball from');
    const dir = path.join(WORK, 'bad-tarball', 'x');
    fs.mkdirSync(path.join(dir, 'node', 'bin'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.copyFileSync(path.join(sh('bash', ['scripts/nodes/fetch.sh', v18]), 'bin', 'node'), `${dir}/node/bin/node`);
    fs.copyFileSync(BUNDLE, `${dir}/lib/layerflat.mjs`);
    const bad = path.join(WORK, 'bad.tar.gz');
    sh('tar', ['-czf', bad, '-C', path.dirname(dir), 'x']);
    const r = spawnSync('bash', ['scripts/nodes/check-glibc.sh', bad], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('needs GLIBC_2.28, RHEL 7 has GLIBC_2.17');
  });

  it('runs through a symlink to its launcher, from any directory', () => {
    const launcher = runners.find((r) => r.name === 'tarball launcher')!.command[0]!;
    const link = path.join(WORK, 'bin-link');
    fs.symlinkSync(launcher, link);
    const r = spawnSync(link, ['--version'], { encoding: 'utf8', cwd: os.tmpdir() });
    expect(r.stdout.trim()).toBe(VERSION);
  });
});
