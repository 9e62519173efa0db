/**
 * The lock file that serialises index.json updates: exclusive in one process and across many,
 * a stale lock of a dead process is taken over (even by many processes at once), a live holder is
 * waited for, a holder on another host is never broken.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pendingTemporaries } from '../../src/fsio/cleanup.js';
import { withLock } from '../../src/fsio/lock.js';
import { hostTag } from '../../src/fsio/temp-names.js';
import { deadPid, livePid } from '../helpers/processes.js';
import { tempDir } from '../transports/helpers.js';

const LOCK_JS = path.resolve('dist/fsio/lock.js');
beforeAll(() => {
  if (!fs.existsSync(LOCK_JS)) spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holders inside the lock at once, over `n` concurrent holders in this process. */
async function maxInside(lock: string, n: number): Promise<number> {
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: n }, () =>
      withLock(lock, async () => {
        most = Math.max(most, ++inside);
        await sleep(1);
        inside--;
      }),
    ),
  );
  return most;
}

/**
 * `procs` processes, each taking the lock `rounds` times to add one to a counter file with a
 * read, a pause and a write: any two holders at once lose an increment.
 */
async function countAcrossProcesses(lock: string, counter: string, procs: number, rounds: number): Promise<number> {
  fs.writeFileSync(counter, '0');
  const script = `
    const { withLock } = await import(${JSON.stringify(LOCK_JS)});
    const fs = await import('node:fs');
    for (let i = 0; i < ${rounds}; i++) {
      await withLock(${JSON.stringify(lock)}, async () => {
        const n = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8'));
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        fs.writeFileSync(${JSON.stringify(counter)}, String(n + 1));
      });
    }`;
  const codes = await Promise.all(
    Array.from(
      { length: procs },
      () =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          child.on('close', resolve);
        }),
    ),
  );
  expect(codes).toEqual(codes.map(() => 0));
  return Number(fs.readFileSync(counter, 'utf8'));
}

describe('withLock', () => {
  it('lets one holder in at a time, in one process', async () => {
    const dir = tempDir();
    expect(await maxInside(path.join(dir, 'index.json.lock'), 20)).toBe(1);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('lets one holder in at a time across processes', async () => {
    const dir = tempDir();
    const lock = path.join(dir, 'index.json.lock');
    expect(await countAcrossProcesses(lock, path.join(dir, 'counter'), 6, 15)).toBe(90);
    expect(fs.readdirSync(dir)).toEqual(['counter']);
  });

  it('takes over the stale lock of a process that died, and removes it after', async () => {
    const dir = tempDir();
    const lock = path.join(dir, 'index.json.lock');
    fs.writeFileSync(lock, `${hostTag()} ${deadPid()}\n`);
    let ran = false;
    await withLock(
      lock,
      async () => {
        ran = true;
        expect(fs.readFileSync(lock, 'utf8')).toBe(`${hostTag()} ${process.pid}\n`);
      },
      { timeoutMs: 2000 },
    );
    expect(ran).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a stale lock found by many processes at once is broken once: still one holder at a time', async () => {
    const dir = tempDir();
    const lock = path.join(dir, 'index.json.lock');
    for (let round = 0; round < 2; round++) {
      fs.writeFileSync(lock, `${hostTag()} ${deadPid()}\n`);
      expect(await countAcrossProcesses(lock, path.join(dir, 'counter'), 8, 4)).toBe(32);
      expect(fs.readdirSync(dir)).toEqual(['counter']);
    }
  });

  it('a stale LOCK.break left by a breaker that died does not block', async () => {
    const dir = tempDir();
    const lock = path.join(dir, 'index.json.lock');
    fs.writeFileSync(lock, `${hostTag()} ${deadPid()}\n`);
    fs.writeFileSync(`${lock}.break`, `${hostTag()} ${deadPid()}\n`);
    await withLock(lock, async () => undefined, { timeoutMs: 2000 });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('waits for a live holder, and goes in once it is released', async () => {
    const dir = tempDir();
    const lock = path.join(dir, 'index.json.lock');
    const holder = `${hostTag()} ${livePid()}\n`;
    fs.writeFileSync(lock, holder);
    const started = Date.now();
    await expect(withLock(lock, async () => undefined, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/index\.json\.lock is held by process \d+; .*remove the file/),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(fs.readFileSync(lock, 'utf8')).toBe(holder);
    setTimeout(() => fs.rmSync(lock), 200);
    const waited = Date.now();
    await withLock(lock, async () => undefined, { timeoutMs: 5000 });
    expect(Date.now() - waited).toBeGreaterThanOrEqual(190);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('never breaks the lock of a holder on another host, even one whose pid is not running here', async () => {
    const dir = tempDir();
    const lock = path.join(dir, 'index.json.lock');
    const holder = `build-host-2 ${deadPid()}\n`;
    fs.writeFileSync(lock, holder);
    await expect(withLock(lock, async () => undefined, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringContaining('on host build-host-2'),
    });
    expect(fs.readFileSync(lock, 'utf8')).toBe(holder);
    expect(fs.readdirSync(dir)).toEqual(['index.json.lock']);
  });

  it('never breaks a lock file it cannot read as a holder (one being written)', async () => {
    const dir = tempDir();
    const lock = path.join(dir, 'index.json.lock');
    fs.writeFileSync(lock, '');
    await expect(withLock(lock, async () => undefined, { timeoutMs: 200 })).rejects.toMatchObject({
      message: expect.stringContaining('held by an unknown process'),
    });
    expect(fs.readFileSync(lock, 'utf8')).toBe('');
  });

  it('is released when the work fails, and is a registered temporary only while held', async () => {
    const dir = tempDir();
    const lock = path.join(dir, 'index.json.lock');
    const before = pendingTemporaries();
    await expect(
      withLock(lock, async () => {
        expect(pendingTemporaries()).toBe(before + 1); // removed if the process is interrupted now
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(pendingTemporaries()).toBe(before);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
