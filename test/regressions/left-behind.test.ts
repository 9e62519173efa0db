/**
 * "Nothing left behind, nothing overwritten" (issue #9), with the built command line as users run
 * it: after every failure — bad input, a failing layer, --verify refusing, an interrupted run — no
 * temporary file, staging directory or stdin spool remains, at any destination (a file, a new or
 * existing OCI layout, an oci-archive, stdout); after a kill -9 the next run that writes to the same
 * place removes what was left, but never a temporary of a process that still runs; output files
 * are never written through a symlink, never replace a file without --force, never replace anything
 * but a regular file, and keep the replaced file's mode and owner.
 */
import { execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import * as module from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hostTag } from '../../src/fsio/temp-names.js';
import {
  bigImage,
  ensureBuilt,
  finished,
  inParallel,
  runCli,
  smallImage,
  snapshot,
  spawnCli,
  type CliResult,
} from '../helpers/cli.js';
import { until } from '../helpers/processes.js';

const RULES = path.resolve('test/fixtures/docker-rules.tar');
const isRoot = process.getuid?.() === 0;
let root: string;
let SMALL: string;
let BIG: string;
let TRUNCATED: string;
let DAMAGED: string;
let BASE_LAYOUT: string;
let REFUSE_VERIFY: string;

/** The small image with one byte of its first layer's file flipped (the layer's diff_id then fails). */
function damaged(): Buffer {
  const b = smallImage();
  const at = b.indexOf('ID=test');
  b[at] = b[at]! ^ 0xff;
  return b;
}

/**
 * A node --import module making --verify find a difference in any output (the product never
 * differs from its source on purpose, and the cleanup after a refusal is what is tested here).
 */
function refuseVerifyHook(dir: string): string {
  const hooks = path.join(dir, 'refuse-verify-hooks.mjs');
  fs.writeFileSync(
    hooks,
    `export async function load(url, context, nextLoad) {
      const result = await nextLoad(url, context);
      if (!url.endsWith('/dist/verify/compare.js')) return result;
      const text = typeof result.source === 'string' ? result.source : new TextDecoder().decode(result.source);
      const source = text + '\\nconst realCompareViews = compareViews;\\n' +
        'compareViews = (a, b, o) => [...realCompareViews(a, b, o), { path: "etc/injected", kind: "content" }];\\n';
      return { ...result, source, shortCircuit: true };
    }\n`,
  );
  const preload = path.join(dir, 'refuse-verify.mjs');
  fs.writeFileSync(
    preload,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`,
  );
  return preload;
}

beforeAll(async () => {
  ensureBuilt();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-left-behind-'));
  SMALL = path.join(root, 'small.tar');
  fs.writeFileSync(SMALL, smallImage());
  BIG = path.join(root, 'big.tar');
  fs.writeFileSync(BIG, bigImage(16));
  TRUNCATED = path.join(root, 'truncated.tar');
  fs.writeFileSync(TRUNCATED, fs.readFileSync(SMALL).subarray(0, 5 * 1024));
  DAMAGED = path.join(root, 'damaged.tar');
  fs.writeFileSync(DAMAGED, damaged());
  BASE_LAYOUT = path.join(root, 'base-layout');
  const made = await runCli(['flatten', SMALL, `oci:${BASE_LAYOUT}:one`, '-q']);
  expect(made.stderr).toBe('');
  REFUSE_VERIFY = refuseVerifyHook(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const started: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
function start(args: string[], o: Parameters<typeof spawnCli>[1] = {}): ChildProcessWithoutNullStreams {
  const child = spawnCli(args, o);
  started.push(child);
  return child;
}

/** A fresh place to write: out/ (new outputs), an existing layout, --tmp-dir, and $TMPDIR. */
function scene() {
  const dir = fs.mkdtempSync(path.join(root, 'scene-'));
  const s = {
    out: path.join(dir, 'out'),
    layout: path.join(dir, 'existing'),
    tmp: path.join(dir, 'tmp'),
    envTmp: path.join(dir, 'envtmp'),
  };
  for (const d of [s.out, s.tmp, s.envTmp]) fs.mkdirSync(d);
  fs.cpSync(BASE_LAYOUT, s.layout, { recursive: true });
  const before = snapshot(s.layout);
  return {
    ...s,
    env: { ...process.env, TMPDIR: s.envTmp },
    /** What is left: in out/, the existing layout (changes), --tmp-dir and $TMPDIR. */
    left: () => ({
      out: fs.readdirSync(s.out),
      layout: snapshot(s.layout).filter((l) => !before.includes(l)),
      layoutGone: before.filter((l) => !snapshot(s.layout).includes(l)),
      tmp: fs.readdirSync(s.tmp),
      envTmp: fs.readdirSync(s.envTmp),
    }),
  };
}
type Scene = ReturnType<typeof scene>;
const NOTHING = { out: [], layout: [], layoutGone: [], tmp: [], envTmp: [] };

const DESTS: [string, (s: Scene) => string][] = [
  ['a docker-archive file', (s) => path.join(s.out, 'flat.tar')],
  ['a new OCI layout', (s) => `oci:${path.join(s.out, 'layout')}:flat`],
  ['an existing OCI layout', (s) => `oci:${s.layout}:two`],
  ['an oci-archive', (s) => `oci-archive:${path.join(s.out, 'flat.oci.tar')}`],
  ['stdout', () => '-'],
];

const SOURCES: [string, (file: string, s: Scene) => { arg: string; input?: Buffer; extra: string[] }][] = [
  ['a file', (file) => ({ arg: file, extra: [] })],
  ['stdin spooled in $TMPDIR', (file) => ({ arg: '-', input: fs.readFileSync(file), extra: [] })],
  [
    'stdin spooled in --tmp-dir',
    (file, s) => ({ arg: '-', input: fs.readFileSync(file), extra: ['--tmp-dir', s.tmp] }),
  ],
];

const FAILURES: { what: string; file: () => string; code: number; stderr: RegExp; args?: string[]; hook?: boolean }[] =
  [
    { what: 'bad input (a truncated archive)', file: () => TRUNCATED, code: 2, stderr: /\[[A-Z_]+\]/ },
    {
      what: 'a failing layer (content unlike its diff_id)',
      file: () => DAMAGED,
      code: 2,
      stderr: /\[DIGEST_MISMATCH\]/,
    },
    {
      what: '--verify refusing the output',
      file: () => SMALL,
      code: 1,
      stderr: /\[VERIFY_FAILED\]/,
      args: ['--verify'],
      hook: true,
    },
  ];

/** Module hooks (module.register) came in Node 20.6 / 18.19; without them --verify cannot be made to refuse. */
const canHook = typeof (module as { register?: unknown }).register === 'function';
if (!canHook) console.log(`node ${process.version} has no module.register: the --verify refusal cases are skipped`);

describe.each(FAILURES)('after $what, nothing is left', (failure) => {
  it.skipIf(failure.hook === true && !canHook).each(SOURCES)(
    'reading %s, at any destination',
    async (_source, source) => {
      const runs = DESTS.map(([dest, destOf]) => async () => {
        const s = scene();
        const src = source(failure.file(), s);
        const r = await runCli(['flatten', src.arg, destOf(s), '-q', ...src.extra, ...(failure.args ?? [])], {
          input: src.input,
          env: s.env,
          node: failure.hook ? ['--import', REFUSE_VERIFY] : [],
        });
        return { dest, r, left: s.left() };
      });
      for (const { dest, r, left } of await inParallel(runs, 3)) {
        expect([r.code, r.stderr], dest).toEqual([failure.code, expect.stringMatching(failure.stderr)]);
        expect(left, dest).toEqual(NOTHING);
      }
    },
  );
});

/** Temporaries of process `pid` in `dir` (by the host+pid every name carries). */
function tempsOf(dir: string, pid: number | undefined): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.includes(`layerflat-${hostTag()}-${pid}-`) || n.includes(`-${hostTag()}-${pid}-`));
}

async function killed(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): Promise<CliResult> {
  const done = finished(child);
  child.kill(signal);
  if (signal !== 'SIGKILL') child.kill('SIGCONT'); // a stopped process handles the signal once continued
  return done;
}

describe('after an interrupted run, nothing is left', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s while stdin is being spooled', async (signal) => {
    const s = scene();
    const child = start(['flatten', '-', path.join(s.out, 'flat.tar'), '--tmp-dir', s.tmp], { env: s.env });
    child.stdin.write(fs.readFileSync(RULES).subarray(0, 1_000_000)); // half an image, then stall
    await until(() => tempsOf(s.tmp, child.pid).length === 1, 20_000, 'the stdin spool');
    const r = await killed(child, signal);
    expect(r.signal).toBe(signal);
    expect(s.left()).toEqual(NOTHING);
  });

  it.each([
    ['inspect', ['inspect', '-']],
    ['verify', ['verify', '-', 'SMALL']],
  ])('SIGTERM while %s spools stdin', async (_what, args) => {
    const s = scene();
    const child = start([...args.map((a) => (a === 'SMALL' ? SMALL : a)), '--tmp-dir', s.tmp], { env: s.env });
    child.stdin.write(fs.readFileSync(RULES).subarray(0, 1_000_000));
    await until(() => tempsOf(s.tmp, child.pid).length === 1, 20_000, 'the stdin spool');
    const r = await killed(child, 'SIGTERM');
    expect(r.signal).toBe('SIGTERM');
    expect(s.left()).toEqual(NOTHING);
  });

  it.each(DESTS.filter(([d]) => d !== 'stdout'))(
    'SIGTERM while writing %s (read from stdin)',
    async (_dest, destOf) => {
      const s = scene();
      const dest = destOf(s);
      const child = start(['flatten', '-', dest, '--compress', 'gzip', '--tmp-dir', s.tmp], {
        env: s.env,
        input: fs.readFileSync(BIG),
      });
      const where = dest.startsWith(`oci:${s.layout}`) ? s.layout : s.out;
      await until(() => tempsOf(where, child.pid).length > 0, 30_000, 'the output temporary');
      child.kill('SIGSTOP'); // caught midway: the output is staged, the spool still there
      expect(tempsOf(where, child.pid)).toHaveLength(1);
      expect(tempsOf(s.tmp, child.pid)).toHaveLength(1);
      const r = await killed(child, 'SIGTERM');
      expect(r.signal).toBe('SIGTERM');
      expect(s.left()).toEqual(NOTHING);
    },
  );

  it('SIGTERM while an archive built for stdout waits for its reader', async () => {
    const s = scene();
    const child = start(['flatten', BIG, '-', '--compress', 'gzip'], { env: s.env });
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c)); // stdout is never read: the pipe fills up
    await until(() => tempsOf(s.envTmp, child.pid).length === 1, 30_000, 'the archive built in $TMPDIR');
    const done = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_c, sig) => r(sig)));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    expect(await done).toBe('SIGTERM');
    expect(s.left()).toEqual(NOTHING);
  });
});

describe('after kill -9, the next run writing to the same place removes what was left, and only that', () => {
  it('a stdin spool in --tmp-dir', async () => {
    const s = scene();
    const half = fs.readFileSync(RULES).subarray(0, 1_000_000);
    const stalled = (name: string) => {
      const c = start(['flatten', '-', path.join(s.out, name), '--tmp-dir', s.tmp], { env: s.env });
      c.stdin.write(half);
      return c;
    };
    const a = stalled('a.tar');
    await until(() => tempsOf(s.tmp, a.pid).length === 1, 20_000, "a's spool");
    await killed(a, 'SIGKILL');
    expect(tempsOf(s.tmp, a.pid)).toHaveLength(1); // nothing could remove it
    const b = stalled('b.tar'); // the next run spooling there: removes a's, keeps its own
    await until(() => tempsOf(s.tmp, b.pid).length === 1, 20_000, "b's spool");
    expect(tempsOf(s.tmp, a.pid)).toEqual([]);
    const c = await runCli(['flatten', '-', path.join(s.out, 'c.tar'), '--tmp-dir', s.tmp, '-q'], {
      input: fs.readFileSync(RULES),
      env: s.env,
    });
    expect(c.code).toBe(0);
    expect(tempsOf(s.tmp, b.pid)).toHaveLength(1); // b still runs: its spool is not touched
    await killed(b, 'SIGKILL');
    const d = await runCli(['flatten', SMALL, '-', '--verify', '--tmp-dir', s.tmp, '-q'], { env: s.env });
    expect(d.code).toBe(0);
    expect(fs.readdirSync(s.tmp)).toEqual([]); // d built its archive there, and swept b's spool
    expect(fs.readdirSync(s.out)).toEqual(['c.tar']);
  });

  it('temporaries beside a file and a new layout, in the same directory', async () => {
    const s = scene();
    const a1 = start(['flatten', BIG, path.join(s.out, 'a.tar'), '--compress', 'gzip'], { env: s.env });
    const a2 = start(['flatten', BIG, `oci:${path.join(s.out, 'a-layout')}`], { env: s.env });
    const caught = async (c: ChildProcessWithoutNullStreams) => {
      await until(() => tempsOf(s.out, c.pid).length === 1, 30_000, 'an output temporary');
      c.kill('SIGSTOP'); // held midway (alive) until both are
    };
    await Promise.all([caught(a1), caught(a2)]);
    await Promise.all([killed(a1, 'SIGKILL'), killed(a2, 'SIGKILL')]);
    const stale = [...tempsOf(s.out, a1.pid), ...tempsOf(s.out, a2.pid)];
    expect(stale).toHaveLength(2);
    const b = start(['flatten', BIG, path.join(s.out, 'b.tar'), '--compress', 'gzip', '-q'], { env: s.env });
    await until(() => tempsOf(s.out, b.pid).length === 1, 30_000, "b's output");
    b.kill('SIGSTOP'); // still running (stopped), midway
    expect(fs.readdirSync(s.out)).toEqual(tempsOf(s.out, b.pid)); // b swept a1's and a2's
    const c = await runCli(['flatten', SMALL, path.join(s.out, 'c.tar'), '-q'], { env: s.env });
    expect(c.code).toBe(0);
    expect(fs.readdirSync(s.out).sort()).toEqual(['c.tar', ...tempsOf(s.out, b.pid)].sort()); // b's survives
    const bDone = finished(b);
    b.kill('SIGCONT');
    expect((await bDone).code).toBe(0);
    expect(fs.readdirSync(s.out).sort()).toEqual(['b.tar', 'c.tar']);
  });

  it('a staging directory, index temporaries and the lock in an existing layout', async () => {
    const s = scene();
    const a = start(['flatten', BIG, `oci:${s.layout}:a`], { env: s.env });
    await until(() => tempsOf(s.layout, a.pid).length === 1, 30_000, "a's staging directory");
    await killed(a, 'SIGKILL');
    // what a kill -9 leaves at the moment of the index update: its lock and index temporaries
    const tag = `layerflat-${hostTag()}-${a.pid}-0badcafe`;
    fs.writeFileSync(path.join(s.layout, 'index.json.lock'), `${hostTag()} ${a.pid}\n`);
    fs.writeFileSync(path.join(s.layout, `.index.json.${tag}.tmp`), '{"half":');
    fs.writeFileSync(path.join(s.layout, `.index.json.lock.${tag}.tmp`), `${hostTag()} ${a.pid}\n`);
    expect(tempsOf(s.layout, a.pid)).toHaveLength(3);
    const b = start(['flatten', BIG, `oci:${s.layout}:b`, '-q'], { env: s.env });
    await until(() => tempsOf(s.layout, b.pid).length === 1, 30_000, "b's staging directory");
    b.kill('SIGSTOP');
    expect(tempsOf(s.layout, a.pid)).toEqual([]); // b swept them when it made its own
    const c = await runCli(['flatten', SMALL, `oci:${s.layout}:c`, '-q'], { env: s.env });
    expect([c.code, c.stderr]).toEqual([0, '']); // it took over a's stale lock
    expect(fs.readdirSync(s.layout).sort()).toEqual(
      ['blobs', 'index.json', 'oci-layout', ...tempsOf(s.layout, b.pid)].sort(),
    );
    const bDone = finished(b);
    b.kill('SIGCONT');
    expect((await bDone).code).toBe(0);
    expect(fs.readdirSync(s.layout).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    const index = JSON.parse(fs.readFileSync(path.join(s.layout, 'index.json'), 'utf8'));
    const refs = index.manifests.map(
      (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
    );
    expect(refs).toEqual(['one', 'c', 'b']);
  });
});

/** Output files the CLI writes, as argument lists given FILE (and --force or not). */
const OUTPUTS: [string, (file: string) => string[]][] = [
  ['inspect --svg FILE', (file) => ['inspect', SMALL, '--svg', file]],
  ['flatten SOURCE FILE', (file) => ['flatten', SMALL, file, '-q']],
  ['flatten SOURCE oci-archive:FILE', (file) => ['flatten', SMALL, `oci-archive:${file}`, '-q']],
];

describe('output files: never through a symlink, never over a file without --force', () => {
  it.each(OUTPUTS)(
    '%s: a symlink planted at FILE is refused (DEST_EXISTS) and its target is untouched',
    async (_w, args) => {
      const s = scene();
      const victim = path.join(s.out, 'victim');
      fs.writeFileSync(victim, 'secret', { mode: 0o600 });
      const file = path.join(s.out, 'out.file');
      fs.symlinkSync(victim, file);
      const dangling = path.join(s.out, 'dangling.file');
      fs.symlinkSync(path.join(s.out, 'created-by-us'), dangling);
      for (const force of [[], ['--force']]) {
        for (const f of [file, dangling]) {
          const r = await runCli([...args(f), ...force], { env: s.env });
          expect([r.code, r.stderr]).toEqual([
            2,
            expect.stringMatching(/^layerflat: error \[DEST_EXISTS\].*symbolic link/),
          ]);
        }
      }
      expect(fs.readFileSync(victim, 'utf8')).toBe('secret');
      expect(fs.statSync(victim).mode & 0o777).toBe(0o600);
      expect(fs.readlinkSync(file)).toBe(victim);
      expect(fs.readdirSync(s.out).sort()).toEqual(['dangling.file', 'out.file', 'victim']);
    },
  );

  it.each(OUTPUTS)(
    '%s: a file is kept without --force, and replaced by rename with it, keeping mode and owner',
    async (_w, args) => {
      const s = scene();
      const file = path.join(s.out, 'out.file');
      fs.writeFileSync(file, 'old');
      fs.chmodSync(file, 0o600);
      if (isRoot) fs.chownSync(file, 1234, 5678);
      fs.linkSync(file, path.join(s.out, 'second-name'));
      const r = await runCli(args(file), { env: s.env });
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/\[DEST_EXISTS\].*--force/)]);
      expect(fs.readFileSync(file, 'utf8')).toBe('old');
      const forced = await runCli([...args(file), '--force'], { env: s.env });
      expect([forced.code, forced.stderr]).toEqual([0, '']);
      expect(fs.readFileSync(file).length).toBeGreaterThan(100);
      expect(fs.readFileSync(path.join(s.out, 'second-name'), 'utf8')).toBe('old'); // renamed over, not rewritten
      const st = fs.statSync(file);
      expect(st.mode & 0o7777).toBe(0o600);
      if (isRoot) expect([st.uid, st.gid]).toEqual([1234, 5678]);
      expect(fs.readdirSync(s.out).sort()).toEqual(['out.file', 'second-name']);
    },
  );
  if (!isRoot)
    console.log('not root: the owner kept by --force is tested by the fsio unit tests only as far as they can');

  it.skipIf(!isRoot)(
    'as another (non-root) user, --force replaces their read-only file, which stays read-only',
    async () => {
      const s = scene();
      for (const d of [root, path.dirname(s.out)]) fs.chmodSync(d, 0o711); // mkdtemp made them private
      const dir = path.join(s.out, 'nobody');
      fs.mkdirSync(dir);
      fs.chownSync(dir, 65534, 65534);
      const src = path.join(dir, 'small.tar');
      fs.copyFileSync(SMALL, src);
      const file = path.join(dir, 'chart.svg');
      fs.writeFileSync(file, 'old');
      fs.chownSync(file, 65534, 65534);
      fs.chmodSync(file, 0o444);
      const env = { ...s.env, TMPDIR: dir };
      for (const args of [
        ['inspect', src, '--svg', file, '--force'],
        ['flatten', src, file, '--force', '-q'],
      ]) {
        const r = await runCli(args, { env, uid: 65534 });
        expect([r.code, r.stderr]).toEqual([0, '']);
        const st = fs.statSync(file);
        expect([st.uid, st.mode & 0o777]).toEqual([65534, 0o444]);
      }
      expect(fs.readdirSync(dir).sort()).toEqual(['chart.svg', 'small.tar']);
    },
  );
  if (!isRoot) console.log('not root: cannot run the CLI as another user');
});

describe('--force never replaces what is not a regular file', () => {
  const kinds: [string, (p: string) => Promise<(() => void) | void> | void][] = [
    [
      isRoot ? 'a character device' : 'a fifo (not root: no character device)',
      (p) => {
        if (isRoot) execFileSync('mknod', [p, 'c', '1', '3']);
        else execFileSync('mkfifo', [p]);
      },
    ],
    [
      'a fifo',
      (p) => {
        execFileSync('mkfifo', [p]);
      },
    ],
    [
      'a socket',
      async (p) => {
        const server = net.createServer();
        await new Promise<void>((r) => server.listen(p, r));
        return () => server.close();
      },
    ],
    ['a symlink', (p) => fs.symlinkSync('/etc/passwd', p)],
    ['a directory', (p) => fs.mkdirSync(p)],
  ];
  it.each(kinds)('%s: DEST_EXISTS, untouched, at every file destination and for --svg', async (_what, make) => {
    const s = scene();
    const dest = path.join(s.out, 'dest');
    const close = await make(dest);
    const before = fs.lstatSync(dest);
    const runs = [
      ['flatten', SMALL, dest, '--force'],
      ['flatten', SMALL, `oci-archive:${dest}`, '--force'],
      ['inspect', SMALL, '--svg', dest, '--force'],
    ];
    for (const args of runs) {
      const r = await runCli(args, { env: s.env });
      expect([r.code, r.stderr], args.join(' ')).toEqual([
        2,
        expect.stringMatching(/^layerflat: error \[DEST_EXISTS\]/),
      ]);
    }
    const after = fs.lstatSync(dest);
    expect([after.ino, after.mode, after.rdev, after.mtimeMs]).toEqual([
      before.ino,
      before.mode,
      before.rdev,
      before.mtimeMs,
    ]);
    expect(fs.readdirSync(s.out)).toEqual(['dest']);
    if (close) close();
  });

  it('the replacement is never more readable than the file it replaces while it is written', async () => {
    const s = scene();
    const dest = path.join(s.out, 'private.tar');
    fs.writeFileSync(dest, 'old');
    fs.chmodSync(dest, 0o640);
    const child = start(['flatten', BIG, dest, '--force', '--compress', 'gzip', '-q'], { env: s.env });
    await until(() => tempsOf(s.out, child.pid).length === 1, 30_000, 'the temporary');
    child.kill('SIGSTOP');
    const temp = path.join(s.out, tempsOf(s.out, child.pid)[0]!);
    expect(fs.statSync(temp).mode & 0o777).toBe(0o600);
    const done = finished(child);
    child.kill('SIGCONT');
    expect((await done).code).toBe(0);
    expect(fs.statSync(dest).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(s.out)).toEqual(['private.tar']);
  });
});
