import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileRangeDigest, GrowingFileDigest } from '../../src/bytes/file-digest.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-file-digest-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
/** A digest as text, for comparing with `sha`. */
const text = async (d: Promise<unknown>) => String(await d);
const plain = async (d: Promise<unknown>) => JSON.parse(JSON.stringify(await d));

describe('fileRangeDigest (hashed on the digest thread)', () => {
  // 9 MiB + 3: more than two of the thread's 4 MiB reads, and not a multiple of anything
  const data = randomBytes(9 * 1024 * 1024 + 3);
  const file = path.join(dir, 'range.bin');
  fs.writeFileSync(file, data);

  it('hashes exactly the range asked for', async () => {
    expect(await text(fileRangeDigest(file, 0, data.length))).toBe(sha(data));
    expect(await text(fileRangeDigest(file, 1000, 5 * 1024 * 1024))).toBe(
      sha(data.subarray(1000, 1000 + 5 * 1024 * 1024)),
    );
    expect(await text(fileRangeDigest(file, 77, 0))).toBe(sha(Buffer.alloc(0)));
  });

  it('runs jobs side by side', async () => {
    const ranges = [
      [0, 4_000_000],
      [3, 7_000_000],
      [4_000_000, 5_000_000],
      [17, 1],
    ] as const;
    const got = await Promise.all(ranges.map(([s, n]) => text(fileRangeDigest(file, s, n))));
    expect(got).toEqual(ranges.map(([s, n]) => sha(data.subarray(s, s + n))));
  });

  it('stops and rejects when its signal aborts', async () => {
    const stop = new AbortController();
    const running = fileRangeDigest(file, 0, data.length, stop.signal);
    stop.abort();
    await expect(running).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/cancelled/) });
    await expect(fileRangeDigest(file, 0, 10, AbortSignal.abort())).rejects.toMatchObject({ code: 'IO' });
    // a signal that never aborts changes nothing
    expect(await text(fileRangeDigest(file, 0, 10, new AbortController().signal))).toBe(sha(data.subarray(0, 10)));
  });

  it('rejects with IO when the file is shorter than the range or missing', async () => {
    await expect(fileRangeDigest(file, 10, data.length)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/ends at byte/),
    });
    await expect(fileRangeDigest(path.join(dir, 'nope'), 0, 1)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/ENOENT/),
    });
  });
});

describe('GrowingFileDigest', () => {
  it('follows a file as it is written, from a start offset', async () => {
    const file = path.join(dir, 'growing.bin');
    const fh = await fs.promises.open(file, 'w');
    const head = Buffer.from('not part of it');
    await fh.write(head, 0, head.length, 0);
    const digest = new GrowingFileDigest(file, head.length);
    const parts = Array.from({ length: 12 }, (_, i) => randomBytes(700_000 + i));
    let written = 0;
    for (const p of parts) {
      await fh.write(p, 0, p.length, head.length + written);
      written += p.length;
      digest.advance(written);
      await new Promise((r) => setImmediate(r)); // let it read behind the writer
    }
    await fh.close();
    expect(await plain(digest.finish(written))).toEqual({ digest: sha(Buffer.concat(parts)), size: written });
  });

  it('gives the empty digest for nothing written, and stops on cancel', async () => {
    const file = path.join(dir, 'empty.bin');
    fs.writeFileSync(file, '');
    expect(await plain(new GrowingFileDigest(file, 0).finish(0))).toEqual({ digest: sha(Buffer.alloc(0)), size: 0 });
    const cancelled = new GrowingFileDigest(file, 0);
    cancelled.cancel();
    cancelled.advance(10); // ignored once cancelled
    // the thread is still usable afterwards
    expect(await text(fileRangeDigest(path.join(dir, 'range.bin'), 0, 5))).toMatch(/^sha256:/);
  });
});
