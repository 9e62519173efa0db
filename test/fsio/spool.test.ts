/** Private temporary directories in --tmp-dir and the stdin spool: made private, always removed, stale ones swept. */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pendingTemporaries } from '../../src/fsio/cleanup.js';
import { makePrivateTempDir, spoolToFile } from '../../src/fsio/spool.js';
import { hostTag, spoolDirName } from '../../src/fsio/temp-names.js';
import { deadPid, livePid } from '../helpers/processes.js';
import { tempDir } from '../transports/helpers.js';

const as = (pid: number, label: 'spool' | 'out') => spoolDirName(label).replace(`-${process.pid}-`, `-${pid}-`);

describe('spoolToFile', () => {
  it('copies the stream into a private directory that remove() takes away, and never tmpDir itself', async () => {
    const tmp = tempDir();
    const before = pendingTemporaries();
    const spooled = await spoolToFile(Readable.from([Buffer.from('image bytes')]), tmp);
    expect(fs.readFileSync(spooled.path, 'utf8')).toBe('image bytes');
    const dir = path.dirname(spooled.path);
    expect(path.dirname(dir)).toBe(tmp);
    expect(path.basename(dir)).toMatch(new RegExp(`^layerflat-spool-${hostTag()}-${process.pid}-[0-9a-f]{8}$`));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(pendingTemporaries()).toBe(before + 1);
    await spooled.remove();
    await spooled.remove(); // idempotent
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(fs.existsSync(tmp)).toBe(true);
    expect(pendingTemporaries()).toBe(before);
  });

  it('leaves nothing when the stream fails midway', async () => {
    const tmp = tempDir();
    const before = pendingTemporaries();
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(70_000, 1));
        this.destroy(new Error('the pipe broke'));
      },
    });
    await expect(spoolToFile(failing, tmp)).rejects.toThrow(/spooling stdin/);
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(pendingTemporaries()).toBe(before);
  });

  it('fails with a clear error, and leaves nothing, when tmpDir does not exist', async () => {
    const tmp = tempDir();
    await expect(spoolToFile(Readable.from([Buffer.from('x')]), path.join(tmp, 'missing'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});

describe('makePrivateTempDir', () => {
  it('sweeps the spool and out directories of dead processes of this host, and nothing else', async () => {
    const tmp = tempDir();
    const stale = [as(deadPid(), 'spool'), as(deadPid(), 'out')];
    const kept = [
      as(livePid(), 'spool'),
      as(process.pid, 'out'),
      as(deadPid(), 'spool').replace(`-${hostTag()}-`, '-another_host-'),
      'layerflat-spool-not-ours',
      'someone-elses-dir',
    ];
    for (const n of [...stale, ...kept]) {
      fs.mkdirSync(path.join(tmp, n));
      fs.writeFileSync(path.join(tmp, n, 'stdin.tar'), 'x');
    }
    fs.writeFileSync(path.join(tmp, 'a-file'), 'x');
    const made = await makePrivateTempDir(tmp, 'out');
    expect(fs.readdirSync(tmp).sort()).toEqual([...kept, 'a-file', path.basename(made)].sort());
    fs.rmSync(made, { recursive: true });
  });
});
