/**
 * Issue #9, "No crash, ever; exit 70 only for a real bug": every operating-system failure, bad
 * option value and small damaged blob ends as ONE line on stderr, `layerflat: error [CODE]: …`,
 * naming the path (or stdin/stdout) and the cause in words, with exit code 2, no stack trace —
 * and nothing left behind: no temporary beside DEST, no staging directory in a layout, no spool
 * directory in the tmp dir. Runs the built CLI as users do; the cases that need a mount or another
 * user run as root (as CI does) and are skipped with a printed reason otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { sha256 } from '../transports/helpers.js';

const BIN = path.resolve('dist/cli/main.js');
const RULES = path.resolve('test/fixtures/docker-rules.tar');
const OCI = path.resolve('test/fixtures/oci-gzip');
const OCI_LAYER = 'a988db3ebd90fe48c8145390d0447a250f7016c86b904199c53ab133510c687a'; // its 1 MB gzip layer
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** One line, a documented code, something after it. */
const ONE_LINE =
  /^layerflat: error \[(IO|NOT_FOUND|USAGE|DIGEST_MISMATCH|SIZE_MISMATCH|TRUNCATED|BAD_[A-Z_]+)\]: \S[^\n]*\n$/;

let base: string;
const mounts: string[] = [];
let dirs = 0;

beforeAll(() => {
  if (!fs.existsSync(BIN)) spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-io-'));
  fs.chmodSync(base, 0o755); // the unprivileged runs must reach what they are given
});

afterAll(() => {
  for (const m of mounts.reverse()) {
    if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
  }
  fs.rmSync(base, { recursive: true, force: true });
});

/** A fresh empty directory under the test's base (owned by `uid` when given). */
function freshDir(label: string, uid?: number): string {
  const d = path.join(base, `${label}-${++dirs}`);
  fs.mkdirSync(d, { mode: 0o755 });
  fs.chmodSync(d, 0o755);
  if (uid !== undefined) fs.chownSync(d, uid, uid);
  return d;
}

/** Everything under `dir`, to prove nothing (not even a hidden temporary) was left behind. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      out.push(prefix + e.name);
      if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** Skip (saying why, on the console too) unless running as root. */
function needRoot(ctx: TestContext, what: string): void {
  if (isRoot) return;
  const why = `needs root (${what}); CI runs as root`;
  console.warn(`skipped "${ctx.task.name}": ${why}`);
  ctx.skip(why);
}

/** Mount a tmpfs at a fresh directory, or skip (saying why) when that is not possible here. */
function tmpfs(ctx: TestContext, options: string): string {
  needRoot(ctx, `mount -t tmpfs -o ${options}`);
  const dir = freshDir('mnt');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = `cannot mount a tmpfs here: ${(r.stderr || r.error?.message || '').trim()}`;
    console.warn(`skipped "${ctx.task.name}": ${why}`);
    ctx.skip(why);
  }
  mounts.push(dir);
  return dir;
}

/** Write `file` until its filesystem is full. */
function fillUp(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(4096));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

interface RunOptions {
  /** Written to stdin, which is then closed. */
  input?: Buffer;
  /**
   * Leave stdin open until the run ends: a source that would block. A run that reads it before
   * failing never ends by itself; it is killed (exit code null) and fails expectOneLine.
   */
  holdStdin?: boolean;
  /** stdout: a pipe read here (default), or an open fd (/dev/full). */
  stdout?: number;
  /** Close our end of stdout after this many bytes (`| head -c N`). */
  headBytes?: number;
  /** Run as `CLI | false` through bash: a reader that exits non-zero at once. */
  intoFalse?: boolean;
  /** Run as this user (and group). */
  uid?: number;
}

interface Run {
  /** The command line, for messages. */
  what: string;
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** The TMPDIR the run was given (fresh and empty); it must be empty again afterwards. */
  tmp: string;
}

/** Run the built CLI with a fresh private TMPDIR; killed after 50 s, inside the test timeout (a blocked run fails). */
function cli(args: string[], o: RunOptions = {}): Promise<Run> {
  const tmp = freshDir('tmpdir', o.uid);
  const env = { ...process.env, TMPDIR: tmp };
  const ids = o.uid === undefined ? {} : { uid: o.uid, gid: o.uid };
  const [file, argv] = o.intoFalse
    ? ['bash', ['-c', '"$@" | false; exit "${PIPESTATUS[0]}"', 'bash', process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]];
  const child = spawn(file, argv, { env, ...ids, stdio: ['pipe', o.stdout ?? 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let got = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (o.headBytes === undefined) out.push(chunk);
    else if (got >= o.headBytes) child.stdout!.destroy();
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin!.on('error', () => undefined); // a run that fails early stops reading its input
  if (o.input) child.stdin!.end(o.input);
  else if (!o.holdStdin) child.stdin!.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(killer);
      child.stdin!.destroy();
      resolve({
        what: `layerflat ${args.join(' ')}`,
        code,
        stdout: Buffer.concat(out),
        stderr,
        tmp,
      });
    });
  });
}

/**
 * The one shape every failure has: exit 2, exactly one line `layerflat: error [CODE]: …`
 * mentioning each of `mentions` (the path, stdin/stdout, the cause), no stack trace, and the
 * run's TMPDIR as empty as it was given.
 */
function expectOneLine(r: Run, code: string, ...mentions: (string | RegExp)[]): void {
  const what = r.what.length > 200 ? `${r.what.slice(0, 200)}…` : r.what;
  expect(r.stderr, `${what}: stderr is one line with a documented code`).toMatch(ONE_LINE);
  expect(r.stderr.slice(0, `layerflat: error [${code}]: `.length), what).toBe(`layerflat: error [${code}]: `);
  expect(r.stderr, what).not.toMatch(/^\s+at /m);
  expect(r.stderr, what).not.toMatch(/Unhandled|internal error|ERR_[A-Z_]+/);
  for (const m of mentions) {
    if (typeof m === 'string') expect(r.stderr, what).toContain(m);
    else expect(r.stderr, what).toMatch(m);
  }
  expect(r.code, `${what}: ${r.stderr}`).toBe(2);
  expect(listing(r.tmp), `${what}: nothing left in TMPDIR`).toEqual([]);
}

/** A copy of the OCI fixture, readable by everyone. */
function ociCopy(): string {
  const d = path.join(freshDir('oci'), 'layout');
  fs.cpSync(OCI, d, { recursive: true });
  return d;
}

/**
 * A one-layer OCI layout whose layer descriptor names `blob` (its digest and, unless `size` says
 * otherwise, its length) while the blob file holds `stored` (default: `blob`).
 */
function ociLayout(blob: Buffer, o: { stored?: Buffer; size?: number; diffId?: string } = {}): string {
  const dir = path.join(freshDir('built'), 'layout');
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const put = (name: string, data: Buffer) => {
    fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'blobs', 'sha256', name.slice('sha256:'.length)), data);
  };
  const config = json({
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [o.diffId ?? sha256(Buffer.alloc(1024))] },
  });
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(blob), size: o.size ?? blob.length },
    ],
  });
  put(sha256(config), config);
  put(sha256(manifest), manifest);
  put(sha256(blob), o.stored ?? blob);
  fs.writeFileSync(path.join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  const index = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest) };
  fs.writeFileSync(
    path.join(dir, 'index.json'),
    json({ schemaVersion: 2, manifests: [{ ...index, size: manifest.length }] }),
  );
  return dir;
}

const ENOSPC = /no space left on the device \(ENOSPC\)/;
const EPIPE = /the reader closed the pipe \(EPIPE\)/;
const EACCES = /permission denied \(EACCES\)/;
const EROFS = /read-only file system \(EROFS\)/;

// The cases are independent (each has its own directories and mounts) and mostly wait on child
// processes, so they run side by side.
describe.concurrent('issue #9: every OS failure is one line and exit 2, with nothing left behind', () => {
  it('ENOSPC on the destination (a full tmpfs): file, new OCI layout, oci-archive, --svg', async (ctx) => {
    const full = tmpfs(ctx, 'size=256k');
    const runs = await Promise.all([
      cli(['flatten', RULES, path.join(full, 'out.tar'), '-q']),
      cli(['flatten', RULES, `oci:${path.join(full, 'layout')}`, '-q']),
      cli(['flatten', RULES, `oci-archive:${path.join(full, 'out.oci.tar')}`, '-q']),
    ]);
    for (const r of runs) expectOneLine(r, 'IO', full, ENOSPC);
    expect(runs[0]!.stderr).toContain('out.tar');
    expect(runs[1]!.stderr).toContain('.layout.');
    expect(listing(full)).toEqual([]);
    // A chart into a filesystem with no room at all.
    fillUp(path.join(full, 'filler'));
    const svg = await cli(['inspect', RULES, '--svg', path.join(full, 'chart.svg')]);
    expectOneLine(svg, 'IO', full, 'chart.svg', ENOSPC);
    expect(listing(full)).toEqual(['filler']);
  });

  it('ENOSPC in --tmp-dir: the stdin spool (flatten, verify, inspect) and an archive built for stdout', async (ctx) => {
    const full = tmpfs(ctx, 'size=256k');
    const dest = freshDir('dest');
    const input = fs.readFileSync(RULES);
    const spools = await Promise.all([
      cli(['flatten', '-', path.join(dest, 'out.tar'), '-q', '--tmp-dir', full], { input }),
      cli(['verify', '-', RULES, '--tmp-dir', full], { input }),
      cli(['inspect', '-', '--tmp-dir', full], { input }),
    ]);
    for (const r of spools) expectOneLine(r, 'IO', 'spooling stdin', full, ENOSPC);
    const built = await cli(['flatten', RULES, '-', '-q', '--compress', 'gzip', '--tmp-dir', full]);
    expectOneLine(built, 'IO', full, ENOSPC);
    expect(built.stdout.length, 'nothing reached stdout').toBe(0);
    expect(listing(full)).toEqual([]);
    expect(listing(dest)).toEqual([]);
  });

  it('ENOSPC on stdout (> /dev/full): the image, and the reports of flatten, verify and inspect', async (ctx) => {
    if (!fs.existsSync('/dev/full')) ctx.skip('no /dev/full on this system');
    const dest = freshDir('dest');
    const full = fs.openSync('/dev/full', 'w');
    try {
      const input = fs.readFileSync(RULES);
      const runs = await Promise.all([
        cli(['flatten', RULES, '-', '-q'], { stdout: full }), // streamed, no temporary
        cli(['flatten', '-', '-', '-q'], { stdout: full, input }), // spooled, streamed
        cli(['flatten', RULES, '-', '-q', '--compress', 'gzip'], { stdout: full }), // built in TMPDIR, copied
        cli(['verify', RULES, RULES], { stdout: full }),
        cli(['inspect', RULES, '--json'], { stdout: full }),
      ]);
      for (const r of runs) expectOneLine(r, 'IO', 'stdout', ENOSPC);
      // The image was written; its report was not, and the message says both.
      const report = await cli(['flatten', RULES, path.join(dest, 'out.tar'), '--json'], { stdout: full });
      expectOneLine(report, 'IO', 'stdout', path.join(dest, 'out.tar'), ENOSPC);
      expect(listing(dest)).toEqual(['out.tar']);
    } finally {
      fs.closeSync(full);
    }
  });

  it('EPIPE: the reader of stdout quits early (flatten IMG - | head -c 1000)', async () => {
    const input = fs.readFileSync(RULES);
    const runs = await Promise.all([
      cli(['flatten', RULES, '-', '-q'], { headBytes: 1000 }),
      cli(['flatten', '-', '-', '-q'], { headBytes: 1000, input }),
      cli(['flatten', RULES, '-', '-q', '--compress', 'gzip'], { headBytes: 1000 }),
    ]);
    for (const r of runs) expectOneLine(r, 'IO', 'stdout', EPIPE);
  });

  it('EPIPE: a reader that exits non-zero at once (… | false): flatten, verify, inspect', async () => {
    const input = fs.readFileSync(RULES);
    const runs = await Promise.all([
      cli(['flatten', RULES, '-', '-q'], { intoFalse: true }),
      cli(['flatten', '-', '-', '-q'], { intoFalse: true, input }),
      cli(['verify', RULES, RULES], { intoFalse: true }),
      cli(['inspect', RULES, '--json'], { intoFalse: true }),
    ]);
    for (const r of runs) expectOneLine(r, 'IO', 'stdout', EPIPE);
  });

  it('EACCES: an unreadable bare-path source (flatten, verify, inspect), as an unprivileged user', async (ctx) => {
    needRoot(ctx, 'to run the CLI as uid 65534');
    const src = path.join(freshDir('src'), 'image.tar');
    fs.copyFileSync(RULES, src);
    fs.chmodSync(src, 0o600); // root's
    const dest = freshDir('dest', NOBODY);
    const runs = await Promise.all([
      cli(['flatten', src, path.join(dest, 'out.tar'), '-q'], { uid: NOBODY }),
      cli(['verify', src, RULES], { uid: NOBODY }),
      cli(['inspect', src], { uid: NOBODY }),
    ]);
    for (const r of runs) expectOneLine(r, 'IO', src, EACCES);
    expect(listing(dest)).toEqual([]);
  });

  it('EACCES: an OCI layout with an unreadable layer blob (flatten, verify, inspect)', async (ctx) => {
    needRoot(ctx, 'to run the CLI as uid 65534');
    const layout = ociCopy();
    const blob = path.join(layout, 'blobs', 'sha256', OCI_LAYER);
    fs.chmodSync(blob, 0o600);
    const dest = freshDir('dest', NOBODY);
    const runs = await Promise.all([
      cli(['flatten', `oci:${layout}`, path.join(dest, 'out.tar'), '-q'], { uid: NOBODY }),
      cli(['flatten', `oci:${layout}`, '-', '-q'], { uid: NOBODY }),
      cli(['verify', `oci:${layout}`, RULES], { uid: NOBODY }),
      cli(['inspect', `oci:${layout}`], { uid: NOBODY }),
    ]);
    for (const r of runs) expectOneLine(r, 'IO', blob, EACCES);
    expect(listing(dest)).toEqual([]);
  });

  it('EACCES: a destination directory without write permission fails before the source is read', async (ctx) => {
    needRoot(ctx, 'to run the CLI as uid 65534');
    const dest = freshDir('readonly-dest');
    const layout = path.join(dest, 'existing');
    fs.cpSync(OCI, layout, { recursive: true }); // an OCI layout to add an image to
    fs.chmodSync(layout, 0o555);
    fs.chmodSync(dest, 0o555);
    const before = listing(dest);
    const runs = await Promise.all([
      cli(['flatten', RULES, path.join(dest, 'out.tar'), '-q'], { uid: NOBODY }),
      cli(['flatten', RULES, `oci:${path.join(dest, 'layout')}`, '-q'], { uid: NOBODY }),
      // stdin that never ends: the run must fail without waiting for it
      cli(['flatten', '-', path.join(dest, 'out.tar'), '-q'], { uid: NOBODY, holdStdin: true }),
      cli(['inspect', '-', '--svg', path.join(dest, 'chart.svg')], { uid: NOBODY, holdStdin: true }),
      cli(['flatten', '-', `oci:${layout}:added`, '-q'], { uid: NOBODY, holdStdin: true }),
    ]);
    for (const r of runs) expectOneLine(r, 'IO', dest, EACCES);
    expect(listing(dest)).toEqual(before);
  });

  it('ENAMETOOLONG: a DEST component of 300 bytes (file name, directory name, OCI layout)', async () => {
    const dest = freshDir('dest');
    const long = 'a'.repeat(296);
    const runs = await Promise.all([
      cli(['flatten', RULES, path.join(dest, `${long}.tar`), '-q']),
      cli(['flatten', RULES, path.join(dest, `${long}.dir`, 'out.tar'), '-q']),
      cli(['flatten', RULES, `oci:${path.join(dest, `${long}.oci`)}`, '-q']),
      cli(['inspect', RULES, '--svg', path.join(dest, `${long}.svg`)]),
    ]);
    for (const r of runs) expectOneLine(r, 'IO', dest, /file name too long \(ENAMETOOLONG\)/);
    expect(listing(dest)).toEqual([]);
  });

  it('ENOTDIR: DEST under a regular file (file.txt/out.tar)', async () => {
    const dest = freshDir('dest');
    const file = path.join(dest, 'file.txt');
    fs.writeFileSync(file, 'not a directory\n');
    const runs = await Promise.all([
      cli(['flatten', RULES, path.join(file, 'out.tar'), '-q']),
      cli(['flatten', RULES, `oci:${path.join(file, 'layout')}`, '-q']),
      cli(['inspect', RULES, '--svg', path.join(file, 'chart.svg')]),
    ]);
    for (const r of runs) expectOneLine(r, 'IO', file, /is not a directory/);
    expect(listing(dest)).toEqual(['file.txt']);
    expect(fs.readFileSync(file, 'utf8')).toBe('not a directory\n');
  });

  it('EROFS: a read-only filesystem as DEST (file, OCI layout, --svg) and as --tmp-dir', async (ctx) => {
    const ro = tmpfs(ctx, 'ro,size=64k');
    const dest = freshDir('dest');
    const input = fs.readFileSync(RULES);
    const runs = await Promise.all([
      cli(['flatten', RULES, path.join(ro, 'out.tar'), '-q']),
      cli(['flatten', RULES, `oci:${path.join(ro, 'layout')}`, '-q']),
      cli(['flatten', '-', path.join(ro, 'out.tar'), '-q'], { holdStdin: true }),
      cli(['inspect', RULES, '--svg', path.join(ro, 'chart.svg')]),
      cli(['flatten', '-', path.join(dest, 'out.tar'), '-q', '--tmp-dir', ro], { input }),
      cli(['verify', '-', RULES, '--tmp-dir', ro], { input }),
    ]);
    for (const r of runs) expectOneLine(r, 'IO', ro, EROFS);
    expect(listing(ro)).toEqual([]);
    expect(listing(dest)).toEqual([]);
  });

  it('a missing directory above DEST fails before any layer is read (stdin left open)', async () => {
    const dest = freshDir('dest');
    const missing = path.join(dest, 'no', 'such');
    const runs = await Promise.all([
      cli(['flatten', '-', path.join(missing, 'out.tar'), '-q'], { holdStdin: true }),
      cli(['flatten', '-', `oci:${path.join(missing, 'layout')}`, '-q'], { holdStdin: true }),
      cli(['flatten', '-', `oci-archive:${path.join(missing, 'out.tar')}`, '-q'], { holdStdin: true }),
      cli(['inspect', '-', '--svg', path.join(missing, 'chart.svg')], { holdStdin: true }),
    ]);
    for (const r of runs) expectOneLine(r, 'NOT_FOUND', missing, /does not exist/);
    expect(listing(dest)).toEqual([]);
  });

  it('a DEST name of 250 characters works: the temporary name beside it fits NAME_MAX', async () => {
    const dest = freshDir('dest');
    const name = `${'b'.repeat(246)}.tar`;
    const layout = 'c'.repeat(250);
    const svg = `${'d'.repeat(246)}.svg`;
    const runs = await Promise.all([
      cli(['flatten', RULES, path.join(dest, name), '-q']),
      cli(['flatten', RULES, `oci:${path.join(dest, layout)}`, '-q']),
      cli(['inspect', RULES, '--svg', path.join(dest, svg)]),
    ]);
    for (const r of runs) expect([r.code, r.stderr]).toEqual([0, '']);
    const again = await cli(['flatten', RULES, path.join(dest, name), '-q', '--force']);
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(fs.readdirSync(dest).sort()).toEqual([name, layout, svg].sort());
    expect(fs.readdirSync(path.join(dest, layout)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('bad option values and unknown options print one USAGE line and exit 2', async () => {
    const dest = freshDir('dest');
    const out = path.join(dest, 'out.tar');
    const cases: [string[], string][] = [
      [['flatten', RULES, out, '--keep-base', 'x'], '--keep-base'],
      [['flatten', RULES, out, '--keep-base', '-1'], '--keep-base'],
      [['flatten', RULES, out, '--compress', 'lz4'], '--compress'],
      [['flatten', RULES, out, '--no-such-option'], '--no-such-option'],
      [['verify', RULES, RULES, '--max', '-1'], '--max'],
      [['inspect', RULES, '--top', 'x'], '--top'],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => expectOneLine(r, 'USAGE', cases[i]![1]));
    expect(listing(dest)).toEqual([]);
  });

  it('small corrupt gzip blobs (20 bytes): one line, never an unhandled error event', async () => {
    const garbage = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('0123456789')]);
    const truncated = zlib.gzipSync(Buffer.alloc(1024)).subarray(0, 20);
    expect([garbage.length, truncated.length]).toEqual([20, 20]);
    const dest = freshDir('dest');
    const runsFor = (layout: string, n: number) => [
      cli(['flatten', `oci:${layout}`, path.join(dest, `out-${n}.tar`), '-q']),
      cli(['flatten', `oci:${layout}`, '-', '-q']),
      cli(['verify', `oci:${layout}`, RULES]),
    ];
    const [bad, cut] = await Promise.all([
      Promise.all(runsFor(ociLayout(garbage), 1)),
      Promise.all(runsFor(ociLayout(truncated), 2)),
    ]);
    for (const r of bad!) expectOneLine(r, 'BAD_TAR', 'layer 1/1', /corrupt gzip data/);
    for (const r of cut!) expectOneLine(r, 'TRUNCATED', 'layer 1/1', /gzip data ends early/);
    expect(listing(dest)).toEqual([]);
  });

  it('mis-sized blobs (one byte shorter / longer than the descriptor): SIZE_MISMATCH, one line', async () => {
    const blob = zlib.gzipSync(Buffer.alloc(1024));
    const shorter = ociLayout(blob, { stored: blob.subarray(0, blob.length - 1) });
    const longer = ociLayout(blob, { stored: Buffer.concat([blob, Buffer.from([0])]) });
    const dest = freshDir('dest');
    const runsFor = (layout: string, n: number) => [
      cli(['flatten', `oci:${layout}`, path.join(dest, `out-${n}.tar`), '-q']),
      cli(['flatten', `oci:${layout}`, path.join(dest, `kept-${n}.tar`), '-q', '--keep-base', '1']),
      cli(['inspect', `oci:${layout}`]),
    ];
    const [short, long] = await Promise.all([Promise.all(runsFor(shorter, 1)), Promise.all(runsFor(longer, 2))]);
    const expected = `expected ${blob.length} bytes`;
    for (const r of short!) expectOneLine(r, 'SIZE_MISMATCH', 'layer 1/1', expected, `${blob.length - 1} bytes`);
    for (const r of long!) expectOneLine(r, 'SIZE_MISMATCH', 'layer 1/1', expected, `${blob.length + 1} bytes`);
    expect(listing(dest)).toEqual([]);
  });
});
