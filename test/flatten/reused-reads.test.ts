/**
 * flatten to a file reads plain layers into a few reused buffers (bytes/ring.ts, BufferRing).
 * That is only right if nothing between the reader and the file keeps a chunk past the next
 * read: here the ring is shrunk to two 4 KiB buffers, so any chunk kept too long is overwritten
 * within a few KiB, and the flat layer must still be the one an ordinary read gives — for every
 * plain-layer engine fixture, with hardlink re-reads, with --keep-base, and to each file format.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flatten } from '../../src/flatten/flatten.js';
import { BufferRing } from '../../src/bytes/ring.js';
import { layerTar, layerWhere } from '../../src/layers/layer-tar.js';
import { mergeLayers } from '../../src/merge/output.js';
import { baseMarkers as markersFor } from '../../src/merge/plan.js';
import { openSource } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';

const FIX = path.resolve('test/fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-reuse-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The flat layer's diff_id the ordinary way: layers decoded from their streams, no reuse. */
async function plainDiffId(source: string, keep: number): Promise<string> {
  const opened = await openSource(parseReference(source, 'source'), {});
  try {
    const { image } = opened;
    const layers = image.layers.map((l, i) => layerTar(l, layerWhere(image, i)));
    const base = keep > 0 ? await markersFor(layers.slice(0, keep), layers.slice(keep), false) : undefined;
    const hash = createHash('sha256');
    for await (const chunk of mergeLayers(layers.slice(keep), { base }).stream) hash.update(chunk);
    return `sha256:${hash.digest('hex')}`;
  } finally {
    await opened.close();
  }
}

const SOURCES = [
  `docker-archive:${FIX}/docker-rules.tar`,
  `docker-archive:${FIX}/podman-rules.tar`,
  `docker-archive:${FIX}/docker-multi.tar:layerflat-fixture/rules:docker`,
];
const DESTS = [
  (d: string) => `docker-archive:${path.join(d, 'flat.tar')}`,
  (d: string) => `oci:${path.join(d, 'layout')}:flat`,
  (d: string) => `oci-archive:${path.join(d, 'flat.oci.tar')}`,
];

describe('flatten through reused read buffers', () => {
  for (const source of SOURCES) {
    for (const keep of [0, 2]) {
      it(`${path.basename(source)}${keep ? `, --keep-base ${keep}` : ''}`, async () => {
        const want = await plainDiffId(source, keep);
        for (const dest of DESTS) {
          const readRing = new BufferRing({ chunk: 4096, buffers: 2 });
          const dir = fs.mkdtempSync(path.join(tmp, 'out-'));
          const keepBase = keep || undefined;
          const r = await flatten({ source, dest: dest(dir), compression: 'none', keepBase, readRing });
          expect(readRing.reads, 'the reused-buffer path was taken').toBeGreaterThan(10);
          expect(r.layers.at(-1)!.diffId, dest(dir)).toBe(want);
        }
      });
    }
  }
});
