import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { LayerflatError } from '../../src/errors.js';
import { DigestStream, parseDigest, sha256Digest, sha256Hex, verifyingStream } from '../../src/image/digest.js';

const ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function sink(): Writable & { bytes: number } {
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      w.bytes += chunk.length;
      cb();
    },
  }) as Writable & { bytes: number };
  w.bytes = 0;
  return w;
}

async function errorOf(p: Promise<unknown>): Promise<LayerflatError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(LayerflatError);
    return err as LayerflatError;
  }
  throw new Error('expected a failure');
}

describe('sha256Hex', () => {
  it('hashes buffers and strings (UTF-8)', () => {
    expect(sha256Hex('abc')).toBe(ABC_SHA256);
    expect(sha256Hex(Buffer.from('abc'))).toBe(ABC_SHA256);
    expect(sha256Hex('')).toBe(EMPTY_SHA256);
    expect(sha256Hex('é')).toBe(sha256Hex(Buffer.from([0xc3, 0xa9])));
    expect(sha256Digest('abc')).toBe(`sha256:${ABC_SHA256}`);
  });
});

describe('parseDigest', () => {
  it('accepts sha256 and sha512', () => {
    expect(parseDigest(`sha256:${ABC_SHA256}`)).toEqual({ algorithm: 'sha256', hex: ABC_SHA256 });
    const h512 = 'a'.repeat(128);
    expect(parseDigest(`sha512:${h512}`)).toEqual({ algorithm: 'sha512', hex: h512 });
  });
  it('rejects everything else with BAD_MANIFEST', () => {
    const bad = [
      '',
      ABC_SHA256,
      `sha256:${ABC_SHA256.toUpperCase()}`,
      `sha256:${ABC_SHA256.slice(1)}`,
      `sha256:${ABC_SHA256}0`,
      `sha512:${ABC_SHA256}`,
      `md5:${'0'.repeat(32)}`,
      `sha256:${ABC_SHA256}\n`,
      ` sha256:${ABC_SHA256}`,
      `sha256-${ABC_SHA256}`,
    ];
    for (const d of bad) {
      let err: unknown;
      try {
        parseDigest(d);
      } catch (e) {
        err = e;
      }
      expect(err, d).toBeInstanceOf(LayerflatError);
      expect((err as LayerflatError).code).toBe('BAD_MANIFEST');
    }
  });
});

describe('DigestStream', () => {
  it('matches sha256sum on a file and passes the bytes through', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-digest-'));
    try {
      const file = join(dir, 'blob');
      const data = randomBytes(3_000_001);
      writeFileSync(file, data);
      const expected = spawnSync('sha256sum', [file]).stdout.toString().split(' ')[0]!;
      expect(expected).toMatch(/^[0-9a-f]{64}$/);
      const ds = new DigestStream();
      const out = sink();
      await pipeline(createReadStream(file), ds, out);
      expect(await ds.result()).toEqual({ digest: `sha256:${expected}`, size: data.length });
      expect(out.bytes).toBe(data.length);
      expect(ds.bytes).toBe(data.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('handles empty streams', async () => {
    const ds = new DigestStream();
    await pipeline(Readable.from([]), ds, sink());
    expect(await ds.result()).toEqual({ digest: `sha256:${EMPTY_SHA256}`, size: 0 });
  });
  it('supports sha512', async () => {
    const ds = new DigestStream('sha512');
    await pipeline(Readable.from([Buffer.from('abc')]), ds, sink());
    const r = await ds.result();
    expect(r.digest).toMatch(/^sha512:ddaf35a193617aba/);
  });
  it('rejects result() when destroyed before the end', async () => {
    const ds = new DigestStream();
    ds.write(Buffer.from('partial'));
    ds.destroy();
    await expect(ds.result()).rejects.toBeInstanceOf(Error);
  });
  it('does not cause unhandled rejections when result() is never asked for', async () => {
    const ds = new DigestStream();
    ds.on('error', () => {});
    ds.destroy(new Error('x'));
    await new Promise((r) => setTimeout(r, 10));
  });
});

describe('verifyingStream', () => {
  const data = Buffer.from('hello, layer');
  const good = { digest: `sha256:${sha256Hex(data)}`, size: data.length };

  it('passes matching blobs through', async () => {
    const out = sink();
    await pipeline(Readable.from([data.subarray(0, 5), data.subarray(5)]), verifyingStream(good, 'blob x'), out);
    expect(out.bytes).toBe(data.length);
    // Size is optional.
    await pipeline(Readable.from([data]), verifyingStream({ digest: good.digest }, 'blob x'), sink());
  });

  it('fails with DIGEST_MISMATCH naming where, expected and actual', async () => {
    const other = Buffer.from('hello, layeR');
    const err = await errorOf(pipeline(Readable.from([other]), verifyingStream(good, 'layer 3 of img'), sink()));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toContain('layer 3 of img');
    expect(err.message).toContain(good.digest);
    expect(err.message).toContain(`sha256:${sha256Hex(other)}`);
  });

  it('fails with SIZE_MISMATCH for short and long blobs', async () => {
    const short = await errorOf(
      pipeline(Readable.from([data.subarray(0, 4)]), verifyingStream(good, 'blob y'), sink()),
    );
    expect(short.code).toBe('SIZE_MISMATCH');
    expect(short.message).toContain('blob y');
    expect(short.message).toContain(`expected ${data.length} bytes, got 4`);
    const long = await errorOf(
      pipeline(Readable.from([data, Buffer.from('!')]), verifyingStream(good, 'blob z'), sink()),
    );
    expect(long.code).toBe('SIZE_MISMATCH');
    expect(long.message).toContain('blob z');
  });

  it('fails a long blob early, without reading it all', async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 65536;
        this.push(Buffer.alloc(65536));
      },
    });
    const err = await errorOf(pipeline(endless, verifyingStream({ digest: good.digest, size: 100_000 }, 'b'), sink()));
    expect(err.code).toBe('SIZE_MISMATCH');
    expect(pulled).toBeLessThan(10 << 20);
  });

  it('never emits end for a bad blob', async () => {
    const v = verifyingStream({ digest: `sha256:${'0'.repeat(64)}` }, 'blob');
    let ended = false;
    v.on('end', () => (ended = true));
    v.resume();
    v.end(data);
    await new Promise((r) => v.on('error', r));
    expect(ended).toBe(false);
  });

  it('supports sha512 digests', async () => {
    const { createHash } = await import('node:crypto');
    const d = `sha512:${createHash('sha512').update(data).digest('hex')}`;
    await pipeline(Readable.from([data]), verifyingStream({ digest: d, size: data.length }, 'b'), sink());
  });

  it('throws BAD_MANIFEST for an invalid expected digest', () => {
    expect(() => verifyingStream({ digest: 'sha256:xyz' }, 'b')).toThrow(LayerflatError);
  });
});
