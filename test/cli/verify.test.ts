/** `layerflat verify` as users run it: exit codes and what it compares. */
import { spawnSync } from 'node:child_process';
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
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-cli-verify-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('layerflat verify', () => {
  it(
    'exits 0 for the same filesystem in two formats, 1 with a readable ' + 'list for different ones, 2 for bad input',
    () => {
      expect(run(['verify', RULES, `oci:${FIX}/oci-gzip:rules`]).code).toBe(0);
      const diff = run(['verify', RULES, path.join(FIX, 'podman-rules.tar')]);
      expect(diff.code).toBe(1);
      expect(diff.stdout.toString()).toMatch(/^\d+ difference\(s\) between .*: /);
      expect(run(['verify', RULES, path.join(tmp, 'nope.tar')]).code).toBe(2);
    },
  );

  it('compares an image with a plain filesystem tar (what docker export writes)', () => {
    const flat = path.join(tmp, 'for-fs.tar');
    expect(run(['flatten', RULES, flat, '-q']).code).toBe(0);
    const dir = fs.mkdtempSync(path.join(tmp, 'fs-'));
    const manifest = JSON.parse(spawnSync('tar', ['-xOf', flat, 'manifest.json']).stdout.toString());
    spawnSync('tar', ['-xf', flat, '-C', dir, manifest[0].Layers[0]]);
    const layer = path.join(dir, manifest[0].Layers[0]);
    expect(run(['verify', RULES, layer]).stdout.toString()).toMatch(/^same filesystem/);
    expect(run(['verify', `tar:${layer}`, path.join(FIX, 'podman-rules.tar')]).code).toBe(1);
  });
});
