/**
 * Images made in memory from entry specs, for inspect tests: each layer a plain tar built with
 * tar-builder, its diff_id computed, opened as often as asked.
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { Digest } from '../../src/image/digest.js';
import type { HistoryEntry, Image } from '../../src/image/types.js';
import { inspectImage } from '../../src/inspect/inspect.js';
import type { InspectResult } from '../../src/inspect/types.js';
import { buildTar, type EntrySpec } from '../helpers/tar-builder.js';

const sha256 = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

/** A file spec of `size` bytes (content 'x' repeated). */
export const file = (path: string, size: number, extra: Partial<EntrySpec> = {}): EntrySpec => ({
  path,
  content: Buffer.alloc(size, 'x'),
  ...extra,
});
export const dir = (path: string): EntrySpec => ({ path: `${path}/`, type: 'dir' });
export const link = (path: string, target: string): EntrySpec => ({ path, type: 'hardlink', linkname: target });
export const symlink = (path: string, target: string): EntrySpec => ({ path, type: 'symlink', linkname: target });
export const whiteout = (path: string): EntrySpec => ({ path: path.replace(/([^/]+)$/, '.wh.$1') });
export const opaque = (dirPath: string): EntrySpec => ({
  path: dirPath === '' ? '.wh..wh..opq' : `${dirPath}/.wh..wh..opq`,
});

/** An in-memory image whose layers are `layers` (bottom first). */
function imageOf(layers: EntrySpec[][], history?: HistoryEntry[]): Image {
  const tars = layers.map((specs) => buildTar(specs));
  return {
    config: { rootfs: { type: 'layers', diff_ids: tars.map(sha256) }, history },
    layers: tars.map((tar) => ({ diffId: Digest.parse(sha256(tar)), source: { stream: () => Readable.from([tar]) } })),
    tags: ['example.com/test:1'],
    origin: 'test image',
  };
}

/** Inspect an in-memory image of `layers`. */
export function inspectLayers(layers: EntrySpec[][], top?: number, history?: HistoryEntry[]): Promise<InspectResult> {
  return inspectImage(imageOf(layers, history), 'memory', top);
}
