import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { checkBuffer, DigestStream, verified } from '../../src/bytes/verify.js';
import { LayerflatError } from '../../src/errors.js';
import { Digest, sha256Hex } from '../../src/image/digest.js';

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

async function drain(chunks: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const c of chunks) n += c.length;
  return n;
}

async function* from(...parts: Buffer[]): AsyncGenerator<Buffer> {
  yield* parts;
}

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
      const r = await ds.result();
      expect([String(r.digest), r.size]).toEqual([`sha256:${expected}`, data.length]);
      expect(out.bytes).toBe(data.length);
      expect(ds.bytes).toBe(data.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('handles empty streams', async () => {
    const ds = new DigestStream();
    await pipeline(Readable.from([]), ds, sink());
    expect(String((await ds.result()).digest)).toBe(`sha256:${EMPTY_SHA256}`);
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

describe('verified', () => {
  const data = Buffer.from('hello, layer');
  const good = { digest: Digest.of(data), size: data.length };

  it('passes matching blobs through, size or no size', async () => {
    expect(await drain(verified(from(data.subarray(0, 5), data.subarray(5)), good))).toBe(data.length);
    expect(await drain(verified(from(data), { digest: good.digest }))).toBe(data.length);
  });

  it('fails with DIGEST_MISMATCH naming expected and actual', async () => {
    const other = Buffer.from('hello, layeR');
    const err = await errorOf(drain(verified(from(other), good)));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(err.message).toContain(String(good.digest));
    expect(err.message).toContain(`sha256:${sha256Hex(other)}`);
  });

  it('fails with SIZE_MISMATCH for short and long blobs', async () => {
    const short = await errorOf(drain(verified(from(data.subarray(0, 4)), good)));
    expect(short.code).toBe('SIZE_MISMATCH');
    expect(short.message).toContain(`expected ${data.length} bytes, got 4`);
    const long = await errorOf(drain(verified(from(data, Buffer.from('!')), good)));
    expect(long.code).toBe('SIZE_MISMATCH');
  });

  it('fails a long blob early, without reading it all', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        pulled += 65536;
        yield Buffer.alloc(65536);
      }
    }
    const err = await errorOf(drain(verified(endless(), { digest: good.digest, size: 100_000 })));
    expect(err.code).toBe('SIZE_MISMATCH');
    expect(pulled).toBeLessThan(10 << 20);
  });

  it('never ends cleanly for a bad blob: the error takes the place of the end', async () => {
    const it = verified(from(data), { digest: Digest.parse(`sha256:${'0'.repeat(64)}`) })[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    await expect(it.next()).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('supports sha512 digests', async () => {
    const d = Digest.parse(`sha512:${createHash('sha512').update(data).digest('hex')}`);
    expect(await drain(verified(from(data), { digest: d, size: data.length }))).toBe(data.length);
  });

  it('checks a whole buffer the same way', () => {
    expect(() => checkBuffer(data, good)).not.toThrow();
    expect(() => checkBuffer(Buffer.from('x'), good)).toThrow(expect.objectContaining({ code: 'SIZE_MISMATCH' }));
    expect(() => checkBuffer(Buffer.from('hello, layeR'), good)).toThrow(
      expect.objectContaining({ code: 'DIGEST_MISMATCH' }),
    );
  });
});
