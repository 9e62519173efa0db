import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LayerflatError } from '../../src/errors.js';
import { compressStream } from '../../src/compress/compress.js';
import { decompress } from '../../src/compress/decompress.js';
import { detectCompression } from '../../src/compress/detect.js';
import { ProcessFilter } from '../../src/compress/process-filter.js';
import { chunkedSource, collect, has, mixedData, run, sleep, through } from './helpers.js';

const data = mixedData(2_500_000, 21);

describe('compressStream', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it("'none' passes bytes through", async () => {
    expect((await through(compressStream('none'), data)).equals(data)).toBe(true);
  });

  it.skipIf(!has('gzip'))("'gzip' output decodes with gzip -dc", async () => {
    const gz = await through(compressStream('gzip', { level: 6, threads: 2 }), data);
    expect(detectCompression(gz)).toBe('gzip');
    expect(run('gzip', ['-dc'], gz).equals(data)).toBe(true);
  });

  it("'gzip' at level 1 decodes with our decompress", async () => {
    const gz = await through(compressStream('gzip', { level: 1 }), data);
    const { stream, compression } = await decompress(chunkedSource(gz), 'test');
    expect(compression).toBe('gzip');
    expect((await collect(stream)).equals(data)).toBe(true);
  });

  describe.skipIf(!has('zstd'))('zstd', () => {
    it('output decodes with zstd -dc and with our decompress', async () => {
      const z = await through(compressStream('zstd'), data);
      expect(detectCompression(z)).toBe('zstd');
      expect(run('zstd', ['-dc'], z).equals(data)).toBe(true);
      const { stream } = await decompress(chunkedSource(z), 'test');
      expect((await collect(stream)).equals(data)).toBe(true);
    });

    it('honours level and threads', async () => {
      const fast = await through(compressStream('zstd', { level: 1, threads: 1 }), data);
      const strong = await through(compressStream('zstd', { level: 19, threads: 2 }), data);
      expect(strong.length).toBeLessThan(fast.length);
      expect(run('zstd', ['-dc'], strong).equals(data)).toBe(true);
      expect(() => compressStream('zstd', { level: 0 })).toThrow(RangeError);
    });

    it('handles empty input', async () => {
      const z = await through(compressStream('zstd'), Buffer.alloc(0));
      expect(run('zstd', ['-dc'], z).length).toBe(0);
    });

    it('throws MISSING_TOOL naming zstd and its package when zstd is not on PATH', () => {
      const empty = mkdtempSync(join(tmpdir(), 'lf-nozstd-'));
      try {
        process.env.PATH = empty;
        let err: unknown;
        try {
          compressStream('zstd');
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(LayerflatError);
        expect((err as LayerflatError).code).toBe('MISSING_TOOL');
        expect((err as LayerflatError).message).toMatch(/`zstd`.*apt-get install zstd/);
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    });

    it('kills zstd when destroyed', async () => {
      const z = compressStream('zstd') as ProcessFilter;
      z.write(data);
      await sleep(50);
      z.destroy();
      const exit = await z.exited;
      expect(exit.signal).toBe('SIGTERM');
      expect(() => process.kill(z.pid!, 0)).toThrow();
    });
  });
});
