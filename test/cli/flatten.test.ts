/**
 * The built command line, as users run it: output, exit codes, and that a failed or
 * interrupted run leaves nothing at the destination.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = path.resolve('dist/cli/main.js');
const FIX = path.resolve('test/fixtures');
const RULES = path.join(FIX, 'docker-rules.tar');
let tmp: string;

beforeAll(() => {
  if (!fs.existsSync(BIN)) spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], input?: Buffer, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, maxBuffer: 1 << 28, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Files in a directory, to prove nothing (not even a temp file) was left behind. */
function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

describe('layerflat flatten', () => {
  it('flattens a docker save archive and reports what it did as JSON', () => {
    const dest = path.join(tmp, 'flat.tar');
    const r = run(['flatten', RULES, dest, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout.toString());
    expect(json).toMatchObject({ layersIn: 19, layersOut: 1, keptBase: 0, tags: ['layerflat-fixture/rules:docker'] });
    expect(json.entries.kept).toBeLessThan(json.entries.in);
    expect(json.configDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(json.layers[0].diffId).toMatch(/^sha256:/);
    expect(typeof json.seconds).toBe('number');
    expect(fs.statSync(dest).size).toBe(json.bytes.written);
  });

  it('streams stdin to stdout (docker save | layerflat flatten - - | docker load)', () => {
    const r = run(['flatten', '-', '-'], fs.readFileSync(RULES));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/flattened 19 layers into 1/);
    const out = path.join(tmp, 'piped.tar');
    fs.writeFileSync(out, r.stdout);
    const v = run(['verify', RULES, out]);
    expect(v.stdout.toString()).toMatch(/^same filesystem/);
    expect(v.code).toBe(0);
  });

  it('writes oci-archive:- to stdout as exactly the archive, with the report (text or --json) on stderr', () => {
    const file = path.join(tmp, 'to-file.oci.tar');
    expect(run(['flatten', RULES, `oci-archive:${file}`, '--compress', 'none']).code).toBe(0);
    for (const extra of [[], ['--json']]) {
      const r = run(['flatten', '-', 'oci-archive:-', '--compress', 'none', ...extra], fs.readFileSync(RULES));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.equals(fs.readFileSync(file))).toBe(true);
      expect(r.stderr).toMatch(extra.length ? /"configDigest"/ : /oci-archive:-: sha256:/);
    }
  });

  it('streams a seekable source to stdout with no temporary file (TMPDIR does not even exist)', () => {
    const r = run(['flatten', RULES, '-'], undefined, { ...process.env, TMPDIR: path.join(tmp, 'no', 'such', 'dir') });
    expect(r.stderr).toMatch(/flattened 19 layers into 1/);
    expect(r.code).toBe(0);
    const out = path.join(tmp, 'streamed.tar');
    fs.writeFileSync(out, r.stdout);
    expect(run(['verify', RULES, out]).code).toBe(0);
  });

  it('checks its own output with --verify and says nothing with --quiet', () => {
    const dest = path.join(tmp, 'verified.oci.tar');
    const r = run(['flatten', `docker-archive:${RULES}`, `oci-archive:${dest}`, '--verify', '--quiet']);
    expect([r.code, r.stdout.toString(), r.stderr]).toEqual([0, '', '']);
  });

  it('refuses to overwrite an existing destination unless --force, and then replaces it whole', () => {
    const dest = path.join(tmp, 'exists.tar');
    fs.writeFileSync(dest, 'precious');
    const r = run(['flatten', RULES, dest]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^layerflat: error \[DEST_EXISTS\]/);
    expect(fs.readFileSync(dest, 'utf8')).toBe('precious');
    const forced = run(['flatten', RULES, dest, '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout.toString()).verified).toBe(true); // replacing something is always checked first
    expect(fs.statSync(dest).size).toBeGreaterThan(1000);
  });

  it('keeps the bottom layers with --keep-base', () => {
    const dest = path.join(tmp, 'keep.tar');
    const r = run(['flatten', RULES, dest, '--keep-base', '3', '--json', '--verify']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ layersOut: 4, keptBase: 3 });
  });
});

describe('layerflat flatten: bad input gets one clear line, exit 2, and no output', () => {
  const corrupt = (name: string, edit: (b: Buffer) => void) => {
    const bytes = Buffer.from(fs.readFileSync(RULES));
    edit(bytes);
    const file = path.join(tmp, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  // Offset of the first layer's tar data inside the archive (the first member named ID/layer.tar).
  const firstLayerData = (b: Buffer) => {
    for (let off = 0; off < b.length; off += 512) {
      const name = b.toString('latin1', off, off + 100).replace(/\0.*$/s, '');
      if (name.endsWith('/layer.tar')) return off + 512;
    }
    throw new Error('no layer.tar');
  };
  // Offset of the first data byte of the first non-empty file in the tar starting at `start`.
  const firstFileData = (b: Buffer, start: number) => {
    for (let off = start; ;) {
      const size = parseInt(
        b
          .toString('latin1', off + 124, off + 136)
          .replace(/\0.*$/s, '')
          .trim() || '0',
        8,
      );
      if (b[off + 156] === 0x30 && size > 0) return off + 512;
      off += 512 + Math.ceil(size / 512) * 512;
    }
  };

  it.each([
    ['a missing file', () => path.join(tmp, 'nope.tar'), /\[NOT_FOUND\].*nope\.tar/],
    ['not a tar', () => corrupt('json.tar', (b) => b.fill(0x7b, 0, 4096)), /\[(NOT_A_TAR|BAD_CHECKSUM)\]/],
    [
      'a truncated archive',
      () => {
        const f = path.join(tmp, 'cut.tar');
        fs.writeFileSync(f, fs.readFileSync(RULES).subarray(0, 700_000));
        return f;
      },
      /\[(TRUNCATED|NOT_FOUND|BAD_MANIFEST)\]/,
    ],
    [
      'a bad header checksum in a layer',
      () =>
        corrupt('cksum.tar', (b) => {
          b[firstLayerData(b) + 148]! ^= 0x01;
        }),
      /\[BAD_CHECKSUM\].*layer \d+\/19 .*byte offset 0/,
    ],
    [
      'layer content that does not match its diff_id',
      () =>
        corrupt('digest.tar', (b) => {
          b[firstFileData(b, firstLayerData(b))]! ^= 0xff;
        }),
      /\[DIGEST_MISMATCH\].*layer \d+\/19 .*config says sha256:/,
    ],
    [
      'a REF that is not there',
      () => `docker-archive:${RULES}:no/such:tag`,
      /\[REF_NOT_FOUND\].*layerflat-fixture\/rules:docker/,
    ],
    ['a transport not built yet', () => 'dir:/tmp/x', /\[UNSUPPORTED_TRANSPORT\].*skopeo copy dir:/],
  ])('%s', (_what, source, message) => {
    // an uncompressed docker-archive and a gzip OCI layout: both output paths fail cleanly
    for (const dest of [(d: string) => path.join(d, 'out.tar'), (d: string) => `oci:${path.join(d, 'layout')}:flat`]) {
      const dir = fs.mkdtempSync(path.join(tmp, 'bad-'));
      const r = run(['flatten', source(), dest(dir)]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(listing(dir)).toEqual([]);
    }
  });

  it('says "stdin is empty" when the command feeding the pipe failed', () => {
    const r = run(['flatten', '-', '-'], Buffer.alloc(0));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^layerflat: error \[NOT_A_TAR\]: stdin is empty/);
    expect(r.stdout.length).toBe(0);
  });

  it('leaves nothing behind when interrupted mid-run', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'sig-'));
    const child = spawn(process.execPath, [BIN, 'flatten', '-', path.join(dir, 'out.tar')], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    // Killed with part of this still unread: the pipe's EPIPE is expected, not a failure.
    child.stdin.on('error', () => undefined);
    child.stdin.write(fs.readFileSync(RULES).subarray(0, 1_000_000)); // half an image, then stall
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('close', (c, s) => r(c ?? s)));
    expect(code).not.toBe(0);
    expect(listing(dir)).toEqual([]);
  });
});
