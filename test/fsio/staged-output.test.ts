/**
 * Staged outputs: DEST is untouched or whole, never replaced unless --force and a regular file,
 * never written or chmod-ed through a symbolic link, and a replacement keeps the replaced file's
 * mode and (as root) owner while never being more readable than it as it is written.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pendingTemporaries } from '../../src/fsio/cleanup.js';
import {
  commitWhenBuilt,
  openStagedFile,
  stageDirectory,
  stageFile,
  writeFileSafely,
} from '../../src/fsio/staged-output.js';
import { hostTag, tempNameBeside } from '../../src/fsio/temp-names.js';
import { deadPid, livePid } from '../helpers/processes.js';
import { tempDir } from '../transports/helpers.js';

const isRoot = process.getuid?.() === 0;
const mode = (p: string) => fs.lstatSync(p).mode & 0o7777;
const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** What lstat says of `p`, to prove it was not touched. */
function identity(p: string) {
  const st = fs.lstatSync(p);
  return { ino: st.ino, mode: st.mode, rdev: st.rdev, size: st.size, mtimeMs: st.mtimeMs };
}

/** A character device, or (not root, or no CAP_MKNOD) a fifo; says which. */
function charDevice(p: string): string {
  if (isRoot) {
    try {
      execFileSync('mknod', [p, 'c', '1', '3']); // the numbers of /dev/null
      return 'a character device';
    } catch {
      console.log('mknod failed (no CAP_MKNOD?): testing a fifo in place of a character device');
    }
  } else console.log('not root: testing a fifo in place of a character device');
  execFileSync('mkfifo', [p]);
  return 'a fifo';
}

async function socket(p: string): Promise<void> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(p, resolve));
}

const NOT_REGULAR: [string, (dest: string, dir: string) => Promise<unknown> | unknown][] = [
  ['a character device', (dest) => charDevice(dest)],
  ['a fifo', (dest) => execFileSync('mkfifo', [dest])],
  ['a socket', (dest) => socket(dest)],
  [
    'a symlink to a file',
    (dest, dir) => {
      fs.writeFileSync(path.join(dir, 'victim'), 'secret', { mode: 0o600 });
      fs.symlinkSync(path.join(dir, 'victim'), dest);
    },
  ],
  ['a dangling symlink', (dest, dir) => fs.symlinkSync(path.join(dir, 'victim'), dest)],
  [
    'a symlink to a directory',
    (dest, dir) => {
      fs.mkdirSync(path.join(dir, 'victim'));
      fs.symlinkSync(path.join(dir, 'victim'), dest);
    },
  ],
  ['an empty directory', (dest) => fs.mkdirSync(dest)],
  [
    'a directory',
    (dest) => {
      fs.mkdirSync(dest);
      fs.writeFileSync(path.join(dest, 'keep'), 'x');
    },
  ],
];

describe('a DEST that is not a regular file is never replaced, with or without --force', () => {
  it.each(NOT_REGULAR)('%s: DEST_EXISTS, untouched, nothing left', async (_what, make) => {
    for (const force of [false, true]) {
      const dir = tempDir();
      const dest = path.join(dir, 'out.tar');
      await make(dest, dir);
      const before = fs.readdirSync(dir).sort();
      const seen = identity(dest);
      const victim = path.join(dir, 'victim');
      const victimBefore = fs.existsSync(victim) ? identity(victim) : undefined;
      await expect(stageFile(dest, force)).rejects.toMatchObject({ code: 'DEST_EXISTS' });
      await expect(writeFileSafely(dest, 'new', force)).rejects.toMatchObject({ code: 'DEST_EXISTS' });
      expect(identity(dest)).toEqual(seen);
      if (victimBefore) expect(identity(victim)).toEqual(victimBefore);
      else expect(fs.existsSync(victim)).toBe(false); // a dangling link's target was not created
      if (fs.existsSync(victim) && fs.statSync(victim).isFile()) expect(fs.readFileSync(victim, 'utf8')).toBe('secret');
      expect(fs.readdirSync(dir).sort()).toEqual(before);
    }
  });

  it.each(NOT_REGULAR.filter(([what]) => !what.includes('socket')))(
    '%s planted at DEST while the output was written: DEST_EXISTS at commit, untouched',
    async (_what, make) => {
      for (const force of [false, true]) {
        const dir = tempDir();
        const dest = path.join(dir, 'out.tar');
        const out = await stageFile(dest, force);
        await make(dest, dir);
        const seen = identity(dest);
        const victim = path.join(dir, 'victim');
        const victimBefore = fs.existsSync(victim) ? identity(victim) : undefined;
        await expect(commitWhenBuilt(out, async (temp) => fs.writeFileSync(temp, 'new image'))).rejects.toMatchObject({
          code: 'DEST_EXISTS',
        });
        expect(identity(dest)).toEqual(seen);
        if (victimBefore) expect(identity(victim)).toEqual(victimBefore);
        else expect(fs.existsSync(victim)).toBe(false);
        expect(fs.readdirSync(dir).filter((n) => n.includes('layerflat-'))).toEqual([]);
      }
    },
  );
});

describe('replacing a regular file with --force', () => {
  it.each([0o600, 0o640, 0o444, 0o755])('keeps mode %s, and is never more readable while written', async (m) => {
    const dir = tempDir();
    const dest = path.join(dir, 'out.tar');
    fs.writeFileSync(dest, 'old');
    fs.chmodSync(dest, m);
    const out = await stageFile(dest, true);
    await commitWhenBuilt(out, async (temp) => {
      const tempMode = mode(temp);
      expect(tempMode & 0o444 & ~m, `temp ${tempMode.toString(8)} vs ${m.toString(8)}`).toBe(0);
      expect(tempMode & 0o077).toBe(0); // private to its owner while written
      const fh = await openStagedFile(temp);
      await fh.writeFile('new');
      await fh.close();
    });
    expect(fs.readFileSync(dest, 'utf8')).toBe('new');
    expect(mode(dest)).toBe(m);
    expect(fs.readdirSync(dir)).toEqual(['out.tar']);
  });

  it.skipIf(!isRoot)('as root keeps the owner, and set-id bits a chown would clear', async () => {
    const dir = tempDir();
    const dest = path.join(dir, 'out.tar');
    fs.writeFileSync(dest, 'old');
    fs.chownSync(dest, 1234, 5678);
    fs.chmodSync(dest, 0o6750);
    await writeFileSafely(dest, 'new', true);
    const st = fs.statSync(dest);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([1234, 5678, 0o6750]);
    expect(fs.readFileSync(dest, 'utf8')).toBe('new');
  });
  if (!isRoot) console.log('not root: the owner a --force replacement keeps is not tested');

  it('replaces by rename (a second name of the old file keeps the old bytes)', async () => {
    const dir = tempDir();
    const dest = path.join(dir, 'chart.svg');
    fs.writeFileSync(dest, 'old');
    fs.linkSync(dest, path.join(dir, 'second-name'));
    const ino = fs.statSync(dest).ino;
    await writeFileSafely(dest, 'new', true);
    expect(fs.readFileSync(dest, 'utf8')).toBe('new');
    expect(fs.statSync(dest).ino).not.toBe(ino);
    expect(fs.readFileSync(path.join(dir, 'second-name'), 'utf8')).toBe('old');
    expect(fs.readdirSync(dir).sort()).toEqual(['chart.svg', 'second-name']);
  });

  it('refuses without --force, and leaves the file and no temporary', async () => {
    const dir = tempDir();
    const dest = path.join(dir, 'chart.svg');
    fs.writeFileSync(dest, 'old');
    await expect(writeFileSafely(dest, 'new', false)).rejects.toMatchObject({ code: 'DEST_EXISTS' });
    expect(fs.readFileSync(dest, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['chart.svg']);
  });

  it('a file that appeared at DEST while writing is not replaced without --force', async () => {
    const dir = tempDir();
    const dest = path.join(dir, 'out.tar');
    const out = await stageFile(dest, false);
    fs.writeFileSync(dest, 'theirs');
    await expect(commitWhenBuilt(out, async (t) => fs.writeFileSync(t, 'ours'))).rejects.toMatchObject({
      code: 'DEST_EXISTS',
    });
    expect(fs.readFileSync(dest, 'utf8')).toBe('theirs');
    expect(fs.readdirSync(dir)).toEqual(['out.tar']);
  });
});

describe('new files', () => {
  it('get the mode a plainly created file would, and are private while written', async () => {
    const dir = tempDir();
    const dest = path.join(dir, 'out.tar');
    const out = await stageFile(dest, false);
    expect(mode(out.temp)).toBe(0o600);
    await out.commit();
    const umask = process.umask();
    expect(mode(dest)).toBe(0o666 & ~umask);
  });
});

describe('a symlink planted in place of the temporary', () => {
  it('is never written or chmod-ed through, and nothing is put in place', async () => {
    const dir = tempDir();
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'secret', { mode: 0o600 });
    const dest = path.join(dir, 'out.tar');
    fs.writeFileSync(dest, 'old');
    fs.chmodSync(dest, 0o644);
    const out = await stageFile(dest, true);
    fs.rmSync(out.temp);
    fs.symlinkSync(victim, out.temp);
    await expect(openStagedFile(out.temp)).rejects.toThrow();
    await expect(out.commit()).rejects.toMatchObject({ code: 'IO' });
    expect(fs.readFileSync(victim, 'utf8')).toBe('secret');
    expect(mode(victim)).toBe(0o600);
    expect(fs.readFileSync(dest, 'utf8')).toBe('old');
    await out.discard();
    expect(fs.readdirSync(dir).sort()).toEqual(['out.tar', 'victim']);
  });
});

describe('directories', () => {
  it('an empty DEST directory is replaced and keeps its mode; the staged one is private', async () => {
    const dir = tempDir();
    const dest = path.join(dir, 'layout');
    fs.mkdirSync(dest);
    fs.chmodSync(dest, 0o750);
    const out = await stageDirectory(dest);
    expect(mode(out.temp)).toBe(0o700);
    fs.writeFileSync(path.join(out.temp, 'oci-layout'), '{}');
    await out.commit();
    expect(mode(dest)).toBe(0o750);
    expect(fs.readdirSync(dest)).toEqual(['oci-layout']);
    expect(fs.readdirSync(dir)).toEqual(['layout']);
  });

  it('a new one gets a new directory mode', async () => {
    const dir = tempDir();
    const dest = path.join(dir, 'layout');
    const out = await stageDirectory(dest);
    await out.commit();
    expect(mode(dest)).toBe(0o777 & ~process.umask());
  });

  it('a directory filled while the output was written is not replaced', async () => {
    const dir = tempDir();
    const dest = path.join(dir, 'layout');
    const out = await stageDirectory(dest);
    fs.mkdirSync(dest);
    fs.writeFileSync(path.join(dest, 'theirs'), 'x');
    await expect(commitWhenBuilt(out, async () => undefined)).rejects.toMatchObject({ code: 'DEST_EXISTS' });
    expect(fs.readdirSync(dest)).toEqual(['theirs']);
    expect(fs.readdirSync(dir)).toEqual(['layout']);
  });
});

describe('stale temporaries beside DEST', () => {
  it('are removed when a new output is staged there, unless their process still runs', async () => {
    const dir = tempDir();
    const as = (pid: number, dest: string) =>
      path.basename(tempNameBeside(path.join(dir, dest))).replace(`-${process.pid}-`, `-${pid}-`);
    const dead = as(deadPid(), 'other.tar');
    const live = as(livePid(), 'other.tar');
    const foreign = as(deadPid(), 'x.tar').replace(`layerflat-${hostTag()}-`, 'layerflat-elsewhere-');
    for (const n of [dead, live, foreign]) fs.writeFileSync(path.join(dir, n), 'x');
    fs.mkdirSync(path.join(dir, as(deadPid(), 'layout'))); // a staged layout directory
    const before = pendingTemporaries();
    const out = await stageFile(path.join(dir, 'out.tar'), false);
    expect(fs.readdirSync(dir).sort()).toEqual([live, foreign, path.basename(out.temp)].sort());
    await out.discard();
    expect(pendingTemporaries()).toBe(before);
  });
});
