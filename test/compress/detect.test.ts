import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { detectCompression } from '../../src/compress/detect.js';
import { has, run } from './helpers.js';

describe('detectCompression', () => {
  it('detects gzip by 1f 8b', () => {
    expect(detectCompression(gzipSync(Buffer.from('hello')))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x1f, 0x8b]))).toBe('gzip');
  });
  it('detects a zstd frame by 28 b5 2f fd', () => {
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04]))).toBe('zstd');
  });
  it('detects zstd skippable frames 0x184D2A50..5F', () => {
    for (const low of [0x50, 0x5a, 0x5f]) {
      expect(detectCompression(Buffer.from([low, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]))).toBe('zstd');
    }
    expect(detectCompression(Buffer.from([0x60, 0x2a, 0x4d, 0x18]))).toBe('none');
  });
  it.skipIf(!has('zstd'))('detects real zstd output', () => {
    expect(detectCompression(run('zstd', ['-q', '-c'], Buffer.from('hello world')))).toBe('zstd');
  });
  it('says none for tar, short and empty input', () => {
    const tarHeader = Buffer.alloc(512);
    tarHeader.write('etc/passwd');
    tarHeader.write('ustar\x0000', 257, 'latin1');
    expect(detectCompression(tarHeader)).toBe('none');
    expect(detectCompression(Buffer.alloc(0))).toBe('none');
    expect(detectCompression(Buffer.from([0x1f]))).toBe('none');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f]))).toBe('none');
  });
});
