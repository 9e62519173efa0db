/**
 * `layerflat reclaim` through the built bin (built here if missing): its usage errors and exit
 * codes — the whole run against a real podman is the e2e part "reclaim" (scripts/e2e/reclaim.sh).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'dist', 'cli', 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-reclaim-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => {
  if (!fs.existsSync(BIN)) spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
});

function reclaim(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'reclaim', '--state-dir', path.join(tmp, 'state'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, LAYERFLAT_PODMAN: '' },
  });
  return { code: r.status, stderr: r.stderr.trim().split('\n') };
}

describe('layerflat reclaim (CLI)', () => {
  it('refuses a bad --min-saving with one USAGE line, exit 2', () => {
    const r = reclaim('--min-saving', 'lots', '--podman', path.join(tmp, 'no-podman'));
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([expect.stringMatching(/^layerflat: error \[USAGE\]: --min-saving "lots"/)]);
  });

  it('refuses a bad --reserve with one USAGE line, exit 2, before asking the engine', () => {
    const r = reclaim('--reserve', '2x', '--podman', path.join(tmp, 'no-podman'));
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([expect.stringMatching(/^layerflat: error \[USAGE\]: --reserve "2x"/)]);
  });

  it('says podman is missing in one line, exit 2', () => {
    const r = reclaim('--podman', path.join(tmp, 'no-podman'));
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([expect.stringMatching(/^layerflat: error \[MISSING_TOOL\]: .*podman/)]);
  });

  it('says an unreachable Docker daemon and an unknown engine in one line, exit 2', () => {
    const sock = `unix://${path.join(tmp, 'no.sock')}`;
    const r = spawnSync(process.execPath, [BIN, 'reclaim', '--engine', 'docker', '--state-dir', path.join(tmp, 's')], {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: sock },
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^layerflat: error \[IO\]: .*no\.sock/)]);
    expect(reclaim('--engine', 'lxc')).toMatchObject({ code: 2, stderr: [expect.stringMatching(/USAGE.*lxc/)] });
  });
});
