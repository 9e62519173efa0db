/**
 * `layerflat unpack` as users run it, the built CLI in a child process: the summary and --json,
 * stdin as the source, a run killed midway (its marker stays, and DIR is refused after), and who
 * may unpack — an unprivileged user is refused without --no-chown, and rootless podman's user
 * namespace (podman unshare, as a user with a subuid range) keeps every owner.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { bigImage, ensureBuilt, finished, runCli, smallImage, spawnCli } from '../helpers/cli.js';
import { tempDir } from '../transports/helpers.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const RULES = path.join(FIXTURES, 'docker-rules.tar');
const BIN = path.resolve('dist/cli/main.js');
const root = process.geteuid?.() === 0;
const NOBODY = 65534;

beforeAll(() => ensureBuilt());

/** A scratch directory anybody may write in, with the rules fixture copied in, readable by all. */
function openScratch(): { dir: string; image: string } {
  const dir = tempDir();
  fs.chmodSync(dir, 0o777);
  const image = path.join(dir, 'rules.tar');
  fs.copyFileSync(RULES, image);
  fs.chmodSync(image, 0o644);
  return { dir, image };
}

const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('layerflat: warning:'));

describe('layerflat unpack', () => {
  it('prints two summary lines, or --json; nothing on stderr', async () => {
    const dir = tempDir();
    const img = path.join(dir, 'small.tar');
    fs.writeFileSync(img, smallImage());
    const r = await runCli(['unpack', img, path.join(dir, 'root')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(
      /^unpacked 2 layers into .*\/root: 1 files, 3 dirs, 0 symlinks, 0 hardlinks\nread /,
    );
    const j = await runCli(['unpack', '--json', img, path.join(dir, 'root2')]);
    expect(JSON.parse(j.stdout.toString())).toMatchObject({ layers: 2, files: 1, owners: root ? 'kept' : 'dropped' });
    expect(fs.readFileSync(path.join(dir, 'root2/srv/app'), 'utf8')).toBe('app\n');
  });

  it('reads the image from stdin (-)', async () => {
    const dir = tempDir();
    const r = await runCli(['unpack', '-q', '-', path.join(dir, 'root')], { input: smallImage() });
    expect([r.code, r.stderr, r.stdout.length]).toEqual([0, '', 0]);
    expect(fs.existsSync(path.join(dir, 'root/etc'))).toBe(true);
  });

  it('refuses a non-empty DIR in one line, exit 2', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'x'), '');
    const img = path.join(tempDir(), 'small.tar');
    fs.writeFileSync(img, smallImage());
    const r = await runCli(['unpack', '--force', img, dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^layerflat: error \[DEST_EXISTS\]: .* is not empty \(1 entries\)[^\n]*\n$/);
  });

  it.each(['SIGKILL', 'SIGTERM'] as const)(
    'killed (%s) midway: the marker stays, and DIR is refused after',
    async (signal) => {
      const dir = tempDir();
      const img = path.join(dir, 'big.tar');
      fs.writeFileSync(img, bigImage(64));
      const target = path.join(dir, 'root');
      const marker = path.join(dir, '.root.layerflat-incomplete');
      const child = spawnCli(['unpack', img, target]);
      const done = finished(child);
      // Once the big file has started, the run is in the middle of its only layer.
      for (let i = 0; i < 2000 && !(fs.existsSync(marker) && fs.existsSync(path.join(target, 'data/random'))); i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill(signal);
      const r = await done;
      expect(r.signal).toBe(signal);
      expect(fs.existsSync(marker)).toBe(true);
      expect(fs.readdirSync(target)).not.toContain('.layerflat-incomplete'); // beside DIR, never inside
      const again = await runCli(['unpack', img, target]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain(`[DEST_INCOMPLETE]: ${target} is marked as an unpack that did not finish`);
      expect(again.stderr).toContain(`rm -rf ${target} ${marker}`);
    },
  );
});

describe.skipIf(!root)('who may unpack', () => {
  it('a user without a user namespace is refused (CANNOT_CHOWN), suggesting podman unshare', async () => {
    const { dir, image } = openScratch();
    const r = await runCli(['unpack', image, path.join(dir, 'root')], { uid: NOBODY });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^layerflat: error \[CANNOT_CHOWN\]: running as uid 65534 outside a user namespace, [^\n]*\n$/,
    );
    expect(r.stderr).toMatch(/podman unshare layerflat unpack .*--no-chown/);
    expect(fs.readdirSync(dir)).toEqual(['rules.tar']);
  });

  it('--no-chown: unpacked as that user, each loss said once (owners, devices, capabilities)', async () => {
    const { dir, image } = openScratch();
    const target = path.join(dir, 'root');
    const r = await runCli(['unpack', '--json', '--no-chown', image, target], { uid: NOBODY });
    expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('layerflat: warning:'))).toEqual([]);
    expect(r.code).toBe(0);
    expect(warnings(r.stderr)).toEqual([
      "layerflat: warning: --no-chown: every path belongs to the user who ran the unpack, not to the image's owners",
      expect.stringMatching(/^layerflat: warning: 1 device node\(s\) skipped: only root outside a user namespace/),
      expect.stringMatching(
        /^layerflat: warning: 1 extended attribute\(s\) not set: security\.\* \(file capabilities\)/,
      ),
    ]);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ owners: 'dropped', devicesSkipped: 1, fifos: 1 });
    expect(fs.statSync(path.join(target, 'modes/suid1000'))).toMatchObject({ uid: NOBODY, mode: 0o104750 });
    expect(fs.statSync(path.join(target, 'modes/sticky')).mode & 0o7777).toBe(0o1777);
  });
});

describe.skipIf(!root || spawnSync('unshare', ['-Ur', 'true']).status !== 0)(
  'in a user namespace that maps root alone',
  () => {
    it('an owner the namespace has no id for is CANNOT_CHOWN, naming the path and the map; nothing left', async () => {
      const { dir, image } = openScratch();
      const target = path.join(dir, 'root');
      const run = spawnSync('unshare', ['-Ur', process.execPath, BIN, 'unpack', image, target], { encoding: 'utf8' });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(
        /^layerflat: error \[CANNOT_CHOWN\]: .*belongs to 1000:1000, which this user namespace has no id/,
      );
      expect(run.stderr).toMatch(/\(uids 0; gids 0\)/);
      expect(fs.readdirSync(dir)).toEqual(['rules.tar']);
    });
  },
);

/** A user with a subuid range, for podman unshare (scripts/engines.sh makes one). */
function rootlessUser(): string | undefined {
  if (!root || spawnSync('podman', ['--version']).status !== 0) return undefined;
  const line = fs.existsSync('/etc/subuid') ? fs.readFileSync('/etc/subuid', 'utf8').split('\n')[0] : undefined;
  const user = line?.split(':')[0];
  if (!user) return undefined;
  const ok = spawnSync('runuser', ['-u', user, '--', 'podman', 'unshare', 'true'], { cwd: '/tmp' }).status === 0;
  return ok ? user : undefined;
}

const user = rootlessUser();
describe.skipIf(!user)('rootless, inside podman unshare', () => {
  it('keeps every owner (shifted into the subuid range on disk), sets capabilities, skips devices once', () => {
    const { dir, image } = openScratch();
    const target = path.join(dir, 'root');
    const run = spawnSync(
      'runuser',
      ['-u', user!, '--', 'podman', 'unshare', process.execPath, BIN, 'unpack', '--json', image, target],
      {
        cwd: '/tmp',
        encoding: 'utf8',
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(r).toMatchObject({ owners: 'kept', userNamespace: true, devicesSkipped: 1, xattrs: 1 });
    const own = warnings(run.stderr);
    expect(own).toEqual([expect.stringMatching(/1 device node\(s\) skipped: only root outside a user namespace/)]);
    // Seen from outside: inside uid 0 is the user, inside 1000 is subuid start + 999.
    const [, start] = fs.readFileSync('/etc/subuid', 'utf8').split('\n')[0]!.split(':');
    const uid = Number(execFileSync('id', ['-u', user!], { encoding: 'utf8' }).trim());
    expect(fs.statSync(path.join(target, 'bin')).uid).toBe(uid);
    expect(fs.statSync(path.join(target, 'modes/suid1000'))).toMatchObject({
      uid: Number(start) + 999,
      mode: 0o104750,
    });
    // Inside the namespace every owner is the image's.
    const inside = spawnSync(
      'runuser',
      ['-u', user!, '--', 'podman', 'unshare', 'stat', '-c', '%u:%g %a', path.join(target, 'modes/suid1000')],
      { cwd: '/tmp', encoding: 'utf8' },
    );
    expect(inside.stdout.trim()).toBe('1000:1000 4750');
    const cap = execFileSync(
      'getfattr',
      ['-n', 'security.capability', '-e', 'hex', path.join(target, 'xattr/capfile')],
      {
        encoding: 'utf8',
      },
    );
    expect(cap).toMatch(/security\.capability=0x01000003/); // stored as v3, rooted at the namespace's root
  });
});
