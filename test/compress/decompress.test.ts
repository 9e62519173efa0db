import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LayerflatError } from '../../src/errors.js';
import { decompress } from '../../src/compress/decompress.js';
import { ProcessFilter } from '../../src/compress/process-filter.js';
import { chunkedSource, collect, has, mixedData, run, sleep } from './helpers.js';

const WHERE = 'layer sha256:abcd (test.tar)';

async function roundTrip(stored: Buffer): Promise<{ out: Buffer; compression: string }> {
  const { stream, compression } = await decompress(chunkedSource(stored, 16 * 1024), WHERE);
  return { out: await collect(stream), compression };
}

async function failure(stored: Buffer): Promise<LayerflatError> {
  try {
    const { stream } = await decompress(chunkedSource(stored, 16 * 1024), WHERE);
    await collect(stream);
  } catch (err) {
    expect(err).toBeInstanceOf(LayerflatError);
    return err as LayerflatError;
  }
  throw new Error('expected a failure');
}

let data: Buffer;
beforeAll(() => {
  data = mixedData(3_000_000, 7);
});

describe('decompress: none', () => {
  it('passes plain data through unchanged', async () => {
    const r = await roundTrip(data);
    expect(r.compression).toBe('none');
    expect(r.out.equals(data)).toBe(true);
  });
  it('handles empty and tiny inputs', async () => {
    for (const b of [Buffer.alloc(0), Buffer.from([1]), Buffer.from('abc'), Buffer.from([0x28, 0xb5])]) {
      const r = await roundTrip(b);
      expect(r.compression).toBe('none');
      expect(r.out.equals(b)).toBe(true);
    }
  });
  it('works with one-byte chunks at the start', async () => {
    const src = Readable.from([Buffer.from([0x1f]), Buffer.from([0x8b]), gzipSync(data).subarray(2)]);
    const { stream, compression } = await decompress(src, WHERE);
    expect(compression).toBe('gzip');
    expect((await collect(stream)).equals(data)).toBe(true);
  });
});

describe('decompress: gzip', () => {
  it.skipIf(!has('gzip'))('decodes `gzip -c` output', async () => {
    const r = await roundTrip(run('gzip', ['-c', '-6'], data));
    expect(r.compression).toBe('gzip');
    expect(r.out.equals(data)).toBe(true);
  });
  it.skipIf(!has('pigz'))('decodes `pigz` output', async () => {
    const r = await roundTrip(run('pigz', ['-c', '-p', '2', '-b', '128'], data));
    expect(r.out.equals(data)).toBe(true);
  });
  it('decodes multi-member gzip (concatenated members)', async () => {
    const a = data.subarray(0, 1_000_000);
    const b = data.subarray(1_000_000, 1_000_010);
    const c = data.subarray(1_000_010);
    const stored = Buffer.concat([gzipSync(a), gzipSync(b), gzipSync(Buffer.alloc(0)), gzipSync(c)]);
    const r = await roundTrip(stored);
    expect(r.compression).toBe('gzip');
    expect(r.out.equals(data)).toBe(true);
  });
  it.skipIf(!has('gzip'))('decodes multi-member gzip made by the gzip CLI', async () => {
    const stored = Buffer.concat([
      run('gzip', ['-c'], data.subarray(0, 5000)),
      run('gzip', ['-c'], data.subarray(5000)),
    ]);
    expect((await roundTrip(stored)).out.equals(data)).toBe(true);
  });
  it('reports truncated gzip as TRUNCATED naming the place', async () => {
    const gz = gzipSync(data);
    for (const cut of [3, 10, 5000, gz.length - 4]) {
      const err = await failure(gz.subarray(0, cut));
      expect(err.code).toBe('TRUNCATED');
      expect(err.message).toContain(WHERE);
    }
  });
  it('reports corrupt gzip as BAD_TAR (bad input, not an I/O error) naming the place', async () => {
    const gz = Buffer.from(gzipSync(data));
    gz[gz.length - 6]! ^= 0xff; // CRC
    const err = await failure(gz);
    expect(err.code).toBe('BAD_TAR');
    expect(err.message).toContain(WHERE);
    expect(err.message).toMatch(/gzip/);
  });
  it('passes on errors of the input stream', async () => {
    const gz = gzipSync(data);
    const boom = new LayerflatError('DIGEST_MISMATCH', 'upstream says no');
    const src = new Readable({
      read() {
        this.push(gz.subarray(0, 100_000));
        setImmediate(() => this.destroy(boom));
      },
    });
    const { stream } = await decompress(src, WHERE);
    await expect(collect(stream)).rejects.toBe(boom);
  });
  it('respects backpressure and destroys the input when the consumer stops', async () => {
    const gz = gzipSync(randomBytes(16 << 20), { level: 1 });
    const src = chunkedSource(gz, 64 * 1024);
    const { stream } = await decompress(src, WHERE);
    const first = await new Promise<Buffer>((resolve) =>
      stream.once('data', (c: Buffer) => {
        stream.pause();
        resolve(c);
      }),
    );
    expect(first.length).toBeGreaterThan(0);
    await sleep(200);
    expect(src.pulled).toBeLessThan(6 << 20);
    stream.destroy();
    await sleep(20);
    expect(src.destroyed).toBe(true);
  });
});

describe.skipIf(!has('zstd'))('decompress: zstd', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('decodes `zstd -c` output', async () => {
    const r = await roundTrip(run('zstd', ['-q', '-c', '-T2', '-3'], data));
    expect(r.compression).toBe('zstd');
    expect(r.out.equals(data)).toBe(true);
  });
  it('decodes multi-frame zstd and a leading skippable frame', async () => {
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a50, 0);
    skippable.writeUInt32LE(5, 4);
    const stored = Buffer.concat([
      skippable,
      run('zstd', ['-q', '-c'], data.subarray(0, 100)),
      run('zstd', ['-q', '-c'], data.subarray(100)),
    ]);
    const r = await roundTrip(stored);
    expect(r.compression).toBe('zstd');
    expect(r.out.equals(data)).toBe(true);
  });
  it('reports truncated zstd as TRUNCATED naming the place', async () => {
    const z = run('zstd', ['-q', '-c'], data);
    const err = await failure(z.subarray(0, Math.floor(z.length / 2)));
    expect(err.code).toBe('TRUNCATED');
    expect(err.message).toContain(WHERE);
  });
  it("reports trailing garbage as BAD_TAR with zstd's message", async () => {
    const z = run('zstd', ['-q', '-c'], data.subarray(0, 1000));
    const err = await failure(Buffer.concat([z, Buffer.from('garbage!')]));
    expect(err.code).toBe('BAD_TAR');
    expect(err.message).toContain(WHERE);
    expect(err.message).toMatch(/zstd/);
  });
  it('fails with MISSING_TOOL when zstd is not on PATH', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'lf-nozstd-'));
    try {
      process.env.PATH = empty;
      const z = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
      const src = chunkedSource(z);
      const err = await decompress(src, WHERE).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LayerflatError);
      expect((err as LayerflatError).code).toBe('MISSING_TOOL');
      expect((err as LayerflatError).message).toContain('`zstd`');
      expect((err as LayerflatError).message).toContain('apt-get install zstd');
      expect(src.destroyed).toBe(true);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
  it('finds zstd again once PATH has it', async () => {
    const z = run('zstd', ['-q', '-c'], data);
    process.env.PATH = '/nonexistent';
    await expect(decompress(chunkedSource(z), WHERE)).rejects.toThrow(/zstd/);
    process.env.PATH = savedPath;
    const { stream } = await decompress(chunkedSource(z), WHERE);
    expect((await collect(stream)).equals(data)).toBe(true);
  });
  it('kills the zstd process and destroys the input when the consumer stops early', async () => {
    const big = run('zstd', ['-q', '-c', '-1'], randomBytes(24 << 20));
    const src = chunkedSource(big, 64 * 1024);
    const { stream } = await decompress(src, WHERE);
    expect(stream).toBeInstanceOf(ProcessFilter);
    const filter = stream as ProcessFilter;
    const pid = filter.pid!;
    expect(pid).toBeGreaterThan(0);
    await new Promise<void>((resolve) =>
      stream.once('data', () => {
        stream.pause();
        resolve();
      }),
    );
    await sleep(200);
    expect(src.pulled).toBeLessThan(big.length); // backpressure: the input was not slurped
    stream.destroy();
    const exit = await filter.exited;
    expect(exit.signal).toBe('SIGTERM');
    expect(() => process.kill(pid, 0)).toThrow(); // gone (reaped)
    expect(src.destroyed).toBe(true);
  });
});

describe('decompress: a zstd that cannot run', () => {
  it('fails cleanly (no hang) when the zstd on PATH cannot be executed', async () => {
    const { chmodSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'lf-badzstd-'));
    const saved = process.env.PATH;
    try {
      writeFileSync(join(dir, 'zstd'), '#!/nonexistent/interpreter\n');
      chmodSync(join(dir, 'zstd'), 0o755);
      process.env.PATH = dir;
      const src = chunkedSource(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
      const { stream } = await decompress(src, WHERE);
      const err = await collect(stream).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LayerflatError);
      expect(['MISSING_TOOL', 'IO']).toContain((err as LayerflatError).code);
      expect((err as LayerflatError).message).toMatch(/zstd/);
    } finally {
      process.env.PATH = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('reports a zstd that refuses the data with its exit status and message (BAD_TAR)', async () => {
    const { chmodSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'lf-failzstd-'));
    const saved = process.env.PATH;
    try {
      writeFileSync(join(dir, 'zstd'), '#!/bin/sh\ncat >/dev/null\necho "zstd: out of cheese" >&2\nexit 3\n');
      chmodSync(join(dir, 'zstd'), 0o755);
      process.env.PATH = `${dir}:/usr/bin:/bin`;
      const { stream } = await decompress(
        chunkedSource(Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(300_000)])),
        WHERE,
      );
      const err = await collect(stream).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as LayerflatError).code).toBe('BAD_TAR');
      expect((err as LayerflatError).message).toContain('exit status 3');
      expect((err as LayerflatError).message).toContain('out of cheese');
      expect((err as LayerflatError).message).toContain(WHERE);
    } finally {
      process.env.PATH = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
