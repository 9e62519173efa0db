import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferRing } from '../../src/bytes/ring.js';
import { Digest } from '../../src/image/digest.js';
import type { Layer } from '../../src/image/types.js';
import { layerHeaders } from '../../src/layers/headers.js';
import { DigestChecks, layerTar } from '../../src/layers/layer-tar.js';
import type { TarReadItem } from '../../src/tar/reader.js';
import { buildTar } from '../helpers/tar-builder.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-layer-entries-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const tar = buildTar([
  { path: 'etc/' },
  { path: 'etc/a', content: 'alpha\n' },
  { path: 'etc/b', content: Buffer.alloc(70_000, 1) },
]);

/** A layer stored at an offset inside a bigger file, as a docker-archive member is. */
function storedLayer(name: string, stored: Buffer, diffId: string): Layer {
  const file = path.join(dir, name);
  const before = Buffer.alloc(1536, 0x55);
  fs.writeFileSync(file, Buffer.concat([before, stored, Buffer.alloc(1024)]));
  const range = { path: file, start: before.length, size: stored.length };
  return { diffId: Digest.parse(diffId), size: stored.length, source: { file: range } };
}

async function paths(entries: AsyncIterable<{ entry: { path: string } }>): Promise<string[]> {
  const out: string[] = [];
  for await (const { entry } of entries) out.push(entry.path);
  return out;
}

describe('layerTar', () => {
  it('reads a plain layer in a file and checks its diff_id (on the digest thread)', async () => {
    const stats = { tarBytes: 0, passes: 0 };
    const layer = layerTar(storedLayer('ok.tar', tar, sha(tar)), 'layer 1/1', { stats });
    expect(await paths(layer.entries())).toEqual(['etc', 'etc/a', 'etc/b']);
    expect(stats).toMatchObject({ tarBytes: tar.length, passes: 1, compression: 'none' });
  });

  it('fails with DIGEST_MISMATCH at the end of a layer that does not match, plain or gzip', async () => {
    const wrong = sha(Buffer.from('something else'));
    for (const [name, stored] of [
      ['bad.tar', tar],
      ['bad.tar.gz', gzipSync(tar)],
    ] as const) {
      const layer = layerTar(storedLayer(name, stored, wrong), 'layer 2/3');
      await expect(paths(layer.entries())).rejects.toMatchObject({
        code: 'DIGEST_MISMATCH',
        message: expect.stringMatching(
          /^layer 2\/3: uncompressed content is sha256:[0-9a-f]{64}, but the image config says sha256:/,
        ),
      });
    }
  });

  it(
    'with DigestChecks, leaves the check running; settle() reports it, and ' + 'the next layer will not start',
    async () => {
      const checks = new DigestChecks();
      const bad = layerTar(storedLayer('bad2.tar', tar, sha(Buffer.from('x'))), 'layer 3/3', { checks });
      expect(await paths(bad.entries())).toEqual(['etc', 'etc/a', 'etc/b']); // no wait at the layer's end
      await expect(checks.settle()).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
      const next = layerTar(storedLayer('ok2.tar', tar, sha(tar)), 'layer 2/3', { checks });
      await expect(paths(next.entries())).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    },
  );

  it('settles cleanly when every layer matches, and checks every read of a layer', async () => {
    const checks = new DigestChecks();
    const stats = { tarBytes: 0, passes: 0 };
    const layer = layerTar(storedLayer('ok3.tar', tar, sha(tar)), 'layer 1/1', { checks, stats });
    await paths(layer.entries());
    await paths(layer.entries()); // a hardlink re-read
    await expect(checks.settle()).resolves.toBeUndefined();
    expect(stats.passes).toBe(2);
  });
});

/** A layer that only streams (a registry blob), in chunks of 4 KiB, optionally failing after `failAt` bytes. */
function streamedLayer(stored: Buffer, digestOf: Buffer, diffId: string, failAt?: number): Layer & { closed: boolean } {
  const layer = {
    digest: Digest.parse(sha(digestOf)),
    diffId: Digest.parse(diffId),
    size: stored.length,
    closed: false,
    source: {
      async *stream(): AsyncGenerator<Buffer> {
        try {
          for (let at = 0; at < stored.length; at += 4096) {
            if (failAt !== undefined && at >= failAt) throw new Error('socket hang up');
            yield stored.subarray(at, at + 4096);
          }
        } finally {
          layer.closed = true;
        }
      },
    },
  };
  return layer;
}

describe('layerTar of a streamed blob', () => {
  const flip = (b: Buffer, at: number) => {
    const c = Buffer.from(b);
    c[at] = c[at]! ^ 0xff;
    return c;
  };

  it('reports DIGEST_MISMATCH, not the tar error, when a header is damaged on the way (plain and gzip)', async () => {
    const gz = gzipSync(tar, { level: 0 }); // stored deflate blocks: a flipped byte is a flipped tar byte
    for (const [good, at] of [
      [tar, 100],
      [gz, 1024 + 10],
    ] as const) {
      const layer = streamedLayer(flip(good, at), good, sha(tar));
      await expect(paths(layerTar(layer, 'layer 1/2').entries())).rejects.toMatchObject({
        code: 'DIGEST_MISMATCH',
        message: expect.stringMatching(/^layer 1\/2: the stored blob hashes to sha256:/),
      });
      expect(layer.closed).toBe(true); // read to its end
    }
  });

  it("keeps the source's own error when the stream itself fails", async () => {
    const layer = streamedLayer(tar, tar, sha(tar), 8192);
    await expect(paths(layerTar(layer, 'layer 1/1').entries())).rejects.toThrow(/socket hang up/);
    expect(layer.closed).toBe(true);
  });

  it('closes the source when the reader stops early', async () => {
    const layer = streamedLayer(tar, tar, sha(tar));
    for await (const _ of layerTar(layer, 'layer 1/1').entries()) break;
    expect(layer.closed).toBe(true);
  });
});

describe('layerTar with reused buffers', () => {
  it('reads a plain layer in place through a ring of buffers, with the same entries and data', async () => {
    const ring = new BufferRing({ chunk: 1024, buffers: 2 });
    {
      const layer = layerTar(storedLayer('ring.tar', tar, sha(tar)), 'layer 1/1', { ring });
      const got: string[] = [];
      for await (const item of layer.entries()) {
        const hash = createHash('sha256');
        for await (const piece of item.body()) hash.update(piece); // done with each piece before the next
        got.push(`${item.entry.path}:${hash.digest('hex').slice(0, 12)}`);
      }
      const want = ['etc', 'etc/a', 'etc/b'].map(
        (p, i) =>
          `${p}:${createHash('sha256')
            .update([Buffer.alloc(0), Buffer.from('alpha\n'), Buffer.alloc(70_000, 1)][i]!)
            .digest('hex')
            .slice(0, 12)}`,
      );
      expect(got).toEqual(want);
      expect(ring.reads).toBeGreaterThan(70);
    }
  });

  it('fails with TRUNCATED when the file ends inside the layer', async () => {
    const layer = storedLayer('short.tar', tar, sha(tar));
    const range = 'file' in layer.source ? layer.source.file : undefined;
    const cut: Layer = { ...layer, size: undefined, source: { file: { ...range!, size: range!.size + 10_000 } } };
    const ring = new BufferRing();
    await expect(paths(layerTar(cut, 'layer 1/1', { ring }).entries())).rejects.toMatchObject({
      code: 'TRUNCATED',
    });
  });
});

describe('DigestChecks', () => {
  it('abandon() stops every check still running', async () => {
    const checks = new DigestChecks();
    const running = new AbortController();
    const finished = new AbortController();
    checks.add(new Promise(() => {}), () => running.abort());
    checks.add(Promise.resolve(), () => finished.abort());
    await new Promise((r) => setImmediate(r)); // let the finished one leave the set
    checks.abandon();
    expect(running.signal.aborted).toBe(true);
    expect(finished.signal.aborted).toBe(false);
  });
});

describe('layerHeaders', () => {
  it('lists entries in place without reading data or checking digests', async () => {
    const items: TarReadItem[] = [];
    for await (const item of layerHeaders(
      storedLayer('hdr.tar', tar, sha(Buffer.from('not checked'))),
      'layer 1/1',
    ).entries())
      items.push(item);
    expect(items.map((i) => [i.entry.path, i.entry.dataSize])).toEqual([
      ['etc', 0],
      ['etc/a', 6],
      ['etc/b', 70_000],
    ]);
    expect(() => items[1]!.body()).toThrow(/not read while planning/);
  });
});
