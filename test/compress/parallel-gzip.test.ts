import { randomBytes } from 'node:crypto';
import { constants, crc32 as nodeCrc32, gunzipSync, gzipSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ParallelGzip } from '../../src/compress/parallel-gzip.js';
import { decompress } from '../../src/compress/decompress.js';
import { crc32, crc32Js } from '../../src/compress/crc32.js';
import { deflatePool, threadpoolSize, type DeflateJob } from '../../src/compress/deflate-pool.js';
import { chunkedSource, collect, has, mixedData, run, sleep, through, tryRun } from './helpers.js';

const BS = 64 * 1024; // smallest block size, so tests cross many block boundaries cheaply

async function pgzip(
  data: Buffer,
  options: ConstructorParameters<typeof ParallelGzip>[0] = {},
  piece?: number,
): Promise<Buffer> {
  return through(new ParallelGzip({ blockSize: BS, ...options }), data, piece);
}

/** Check `gz` decodes to `data` with node:zlib, `gzip -t`/`gzip -dc`, `pigz -dc` and our decompress. */
async function expectValid(gz: Buffer, data: Buffer): Promise<void> {
  expect(gz[0]).toBe(0x1f);
  expect(gz[1]).toBe(0x8b);
  expect(gz.readUInt32LE(gz.length - 8)).toBe(nodeCrc32 ? nodeCrc32(data) : crc32Js(data));
  expect(gz.readUInt32LE(gz.length - 4)).toBe(data.length % 2 ** 32);
  expect(gunzipSync(gz).equals(data)).toBe(true);
  // Without the multi-member leniency: one member, decoded by inflate of the raw deflate stream.
  expect(zlib.inflateRawSync(gz.subarray(10, gz.length - 8), { finishFlush: constants.Z_FINISH }).equals(data)).toBe(
    true,
  );
  if (has('gzip')) {
    expect(tryRun('gzip', ['-t'], gz).status).toBe(0);
    expect(run('gzip', ['-dc'], gz).equals(data)).toBe(true);
  }
  if (has('pigz')) expect(run('pigz', ['-dc'], gz).equals(data)).toBe(true);
  const { stream } = await decompress(chunkedSource(gz), 'test');
  expect((await collect(stream)).equals(data)).toBe(true);
}

describe('ParallelGzip output', () => {
  const cases: [string, () => Buffer][] = [
    ['0 bytes', () => Buffer.alloc(0)],
    ['1 byte', () => Buffer.from([42])],
    ['exactly one block', () => mixedData(BS, 3)],
    ['one block + 1 byte', () => mixedData(BS + 1, 4)],
    ['exactly two blocks', () => mixedData(2 * BS, 5)],
    ['many blocks', () => mixedData(40 * BS + 12345, 6)],
    ['incompressible random data', () => randomBytes(20 * BS + 7)],
    ['all zeros', () => Buffer.alloc(10 * BS)],
  ];
  for (const [name, make] of cases) {
    it(`is valid gzip for ${name}`, async () => {
      const data = make();
      await expectValid(await pgzip(data, { threads: 3 }), data);
    });
  }

  it('is valid at every level and uses the right XFL', async () => {
    const data = mixedData(5 * BS + 99, 8);
    for (const level of [0, 1, 2, 6, 9]) {
      const gz = await pgzip(data, { level });
      await expectValid(gz, data);
      expect(gz[8]).toBe(level === 9 ? 2 : level <= 1 ? 4 : 0);
      expect(gz[9]).toBe(255);
    }
  });

  it('handles writes of every size: 1 byte, odd, bigger than a block', async () => {
    const data = mixedData(7 * BS + 3, 9);
    for (const piece of [1000, 1, 65537, 5 * BS]) {
      const input = piece === 1 ? data.subarray(0, 3000) : data;
      await expectValid(await pgzip(input, {}, piece), input);
    }
  });

  it('produces the same bytes whatever the thread count and write sizes', async () => {
    const data = mixedData(30 * BS + 5, 10);
    const a = await pgzip(data, { threads: 1 }, 70_000);
    const b = await pgzip(data, { threads: 4 }, 1 << 20);
    const c = await pgzip(data, { threads: 2 }, 4097);
    expect(b.equals(a)).toBe(true);
    expect(c.equals(a)).toBe(true);
  });

  it('compresses about as well as plain zlib (dictionaries carry matches across blocks)', async () => {
    const data = mixedData(40 * BS, 11);
    const ours = await pgzip(data, { level: 6 });
    const plain = gzipSync(data, { level: 6 });
    expect(ours.length).toBeLessThan(plain.length * 1.01);
  });

  it('is valid with the default options (1 MiB blocks, default threads)', async () => {
    const data = mixedData(3 << 20, 12);
    await expectValid(await through(new ParallelGzip(), data), data);
  });

  it('rejects bad options', () => {
    expect(() => new ParallelGzip({ level: 10 })).toThrow(RangeError);
    expect(() => new ParallelGzip({ threads: 0 })).toThrow(RangeError);
    expect(() => new ParallelGzip({ blockSize: 1000 })).toThrow(RangeError);
  });
});

describe('ParallelGzip streaming', () => {
  it('stops taking input when nobody reads its output (bounded memory)', async () => {
    const gz = new ParallelGzip({ blockSize: BS, threads: 2, level: 1 });
    const piece = randomBytes(1 << 20);
    let accepted = 0;
    let stalled = false;
    for (let i = 0; i < 64 && !stalled; i++) {
      const ok = gz.write(piece, () => (accepted += piece.length));
      if (!ok) {
        const drained = await Promise.race([
          new Promise<boolean>((r) => gz.once('drain', () => r(true))),
          sleep(500).then(() => false),
        ]);
        stalled = !drained;
      }
    }
    expect(stalled).toBe(true);
    expect(accepted).toBeLessThan(8 << 20);
    // Now read: everything flows and the result is valid.
    gz.end();
    const out = await collect(gz);
    expect(out.length).toBeGreaterThan(0);
  });

  it('can be destroyed mid-stream without errors or late events', async () => {
    const gz = new ParallelGzip({ blockSize: BS, threads: 2 });
    const errors: unknown[] = [];
    gz.on('error', (e) => errors.push(e));
    gz.on('data', () => {});
    gz.write(mixedData(20 * BS, 13));
    await sleep(1);
    gz.destroy();
    await sleep(100);
    expect(errors).toEqual([]);
    expect(gz.destroyed).toBe(true);
  });

  it('propagates destroy(err) as an error', async () => {
    const gz = new ParallelGzip({ blockSize: BS });
    const p = collect(gz);
    gz.write(Buffer.alloc(BS * 3));
    gz.destroy(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});

describe('deflate scheduler (libuv threadpool)', () => {
  /** Compress 24 blocks with `threads`, check the result, and say how many blocks ran at once at most. */
  async function mostAtOnce(threads: number, seed: number): Promise<number> {
    let most = 0;
    const timer = setInterval(() => (most = Math.max(most, deflatePool().running)), 1);
    const data = mixedData(24 * BS, seed);
    const gz = await pgzip(data, { threads });
    clearInterval(timer);
    expect(gunzipSync(gz).equals(data)).toBe(true);
    return most;
  }

  it('runs at most threads + 1 blocks at once, leaving threadpool threads for file I/O', async () => {
    const most = await mostAtOnce(2, 35);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(3);
  });

  it('keeps one threadpool thread free for I/O however many threads are asked for', async () => {
    const saved = process.env.UV_THREADPOOL_SIZE;
    process.env.UV_THREADPOOL_SIZE = '4';
    try {
      expect(threadpoolSize()).toBe(4);
      expect(await mostAtOnce(8, 36)).toBeLessThanOrEqual(3);
    } finally {
      if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE;
      else process.env.UV_THREADPOOL_SIZE = saved;
    }
    expect(threadpoolSize()).toBe(Number(process.env.UV_THREADPOOL_SIZE) || 4);
  });

  it('serves several streams at once', async () => {
    const inputs = [mixedData(9 * BS + 1, 31), randomBytes(5 * BS), mixedData(3, 32), mixedData(20 * BS, 33)];
    const outs = await Promise.all(inputs.map((d, i) => pgzip(d, { threads: 1 + (i % 3), level: 1 + i })));
    for (const [i, gz] of outs.entries()) expect(gunzipSync(gz).equals(inputs[i]!)).toBe(true);
  });

  it('reports a failing job as an IO error instead of hanging', async () => {
    const err = await new Promise<Error | null>((resolve) => {
      const job: DeflateJob = {
        threads: 1,
        level: 42, // zlib refuses this
        last: true,
        data: Buffer.from('x'),
        dictionary: undefined,
        cancelled: false,
        done: (e) => resolve(e),
      };
      deflatePool().submit(job);
    });
    expect(err).toBeInstanceOf(Error);
    expect((err as Error & { code?: string }).code).toBe('IO');
    // The pool still works afterwards.
    const data = mixedData(2 * BS, 34);
    expect(gunzipSync(await pgzip(data)).equals(data)).toBe(true);
  });
});

describe('crc32', () => {
  it('matches zlib for random data, incrementally', () => {
    const data = randomBytes(100_003);
    const whole = crc32Js(data);
    expect(crc32Js(data.subarray(50_001), crc32Js(data.subarray(0, 50_001)))).toBe(whole);
    expect(crc32(data)).toBe(whole);
    expect(crc32Js(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Js(Buffer.alloc(0))).toBe(0);
    for (let n = 0; n < 20; n++) expect(crc32Js(data.subarray(0, n))).toBe(crc32(data.subarray(0, n)));
  });
});
