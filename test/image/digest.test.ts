import { describe, expect, it } from 'vitest';
import { LayerflatError } from '../../src/errors.js';
import { Digest, sha256Hex } from '../../src/image/digest.js';

const ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LayerflatError);
    return (err as LayerflatError).code;
  }
  return undefined;
}

describe('sha256Hex and Digest.of', () => {
  it('hash buffers and strings (UTF-8)', () => {
    expect(sha256Hex('abc')).toBe(ABC_SHA256);
    expect(sha256Hex(Buffer.from('abc'))).toBe(ABC_SHA256);
    expect(sha256Hex('')).toBe(EMPTY_SHA256);
    expect(sha256Hex('é')).toBe(sha256Hex(Buffer.from([0xc3, 0xa9])));
    expect(String(Digest.of('abc'))).toBe(`sha256:${ABC_SHA256}`);
  });
});

describe('Digest.parse', () => {
  it('accepts sha256 and sha512, and prints back as it was', () => {
    const d = Digest.parse(`sha256:${ABC_SHA256}`);
    expect([d.algorithm, d.hex, String(d), JSON.stringify({ d })]).toEqual([
      'sha256',
      ABC_SHA256,
      `sha256:${ABC_SHA256}`,
      `{"d":"sha256:${ABC_SHA256}"}`,
    ]);
    const h512 = 'a'.repeat(128);
    expect(Digest.parse(`sha512:${h512}`).hex).toBe(h512);
  });

  // Found by npm run fuzz: String() of a JSON object with a "toString" key threw a TypeError.
  it('rejects a non-string (an object whose toString key is null, an array, a number) with BAD_MANIFEST', () => {
    for (const d of [{ toString: null }, [], 5, null]) expect(codeOf(() => Digest.parse(d))).toBe('BAD_MANIFEST');
  });

  it('rejects what is no digest with BAD_MANIFEST, an unknown algorithm with UNSUPPORTED', () => {
    const bad = [
      '',
      ABC_SHA256,
      `sha256:${ABC_SHA256.toUpperCase()}`,
      `sha256:${ABC_SHA256.slice(1)}`,
      `sha256:${ABC_SHA256}0`,
      `sha512:${ABC_SHA256}`,
      `sha256:${ABC_SHA256}\n`,
      ` sha256:${ABC_SHA256}`,
      `sha256-${ABC_SHA256}`,
    ];
    for (const d of bad)
      expect(
        codeOf(() => Digest.parse(d)),
        d,
      ).toBe('BAD_MANIFEST');
    expect(codeOf(() => Digest.parse(42))).toBe('BAD_MANIFEST');
    expect(codeOf(() => Digest.parse(`md5:${'0'.repeat(32)}`))).toBe('UNSUPPORTED');
  });

  it('gives the short form, prefixes, equality and the blob path', () => {
    const d = Digest.parse(`sha256:${ABC_SHA256}`);
    expect(d.short()).toBe('sha256:ba7816bf8f01');
    expect(d.startsWith('ba78')).toBe(true);
    expect(d.startsWith('sha256:ba78')).toBe(true);
    expect(d.startsWith('sha512:ba78')).toBe(false);
    expect(d.equals(Digest.of('abc'))).toBe(true);
    expect(d.equals(Digest.of('abd'))).toBe(false);
    expect(d.equals(undefined)).toBe(false);
    expect(d.blobPath).toBe(`blobs/sha256/${ABC_SHA256}`);
  });

  it('finds a digest in a member name, or none', () => {
    const re = /^(?:\.\/)?(?:blobs\/sha256\/([a-f0-9]{64})|([a-f0-9]{64})\.json)$/;
    expect(String(Digest.inName(`blobs/sha256/${ABC_SHA256}`, re))).toBe(`sha256:${ABC_SHA256}`);
    expect(String(Digest.inName(`./${ABC_SHA256}.json`, re))).toBe(`sha256:${ABC_SHA256}`);
    expect(Digest.inName('abc/layer.tar', re)).toBeUndefined();
  });
});
