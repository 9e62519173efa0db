/**
 * Writing one output layer through a sink's consumer while learning its digests. A new layer is
 * tapped uncompressed (its diff_id), compressed as asked, and tapped again (digest, size). A
 * copied layer's stored bytes pass through verbatim; only their digest and size are computed,
 * and their media type comes from their first bytes, since docker-archive sources declare none.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LayerflatError } from '../../errors.js';
import { compressStream } from '../../compress/compress.js';
import { MAGIC_LENGTH, detectCompression, layerMediaType } from '../../compress/detect.js';
import { DigestStream } from '../../image/digest.js';
import type { Compression, OutputLayer } from '../../image/types.js';
import type { ChunkConsumer } from './tar-file-writer.js';

/** What was written for one layer. */
export interface WrittenLayer {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

/** Passes bytes through, keeping the first MAGIC_LENGTH of them. */
class HeadCapture extends Transform {
  head = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.head.length < MAGIC_LENGTH) this.head = Buffer.concat([this.head, chunk.subarray(0, MAGIC_LENGTH - this.head.length)]);
    done(null, chunk);
  }
}

async function writeNew(layer: Extract<OutputLayer, { kind: 'new' }>, compression: Compression, consume: ChunkConsumer): Promise<WrittenLayer> {
  const uncompressed = new DigestStream();
  if (compression === 'none') {
    // stored bytes = uncompressed bytes: one hash and no pass-through stage (a multi-GB layer
    // hashed twice costs as much as reading it)
    await pipeline(await layer.open(), uncompressed, consume);
    const diff = await uncompressed.result();
    return { digest: diff.digest, diffId: diff.digest, size: diff.size, mediaType: layerMediaType(compression) };
  }
  const stored = new DigestStream();
  await pipeline(await layer.open(), uncompressed, compressStream(compression), stored, consume);
  const [diff, out] = await Promise.all([uncompressed.result(), stored.result()]);
  return { digest: out.digest, diffId: diff.digest, size: out.size, mediaType: layerMediaType(compression) };
}

async function writeCopy(layer: Extract<OutputLayer, { kind: 'copy' }>['layer'], consume: ChunkConsumer): Promise<WrittenLayer> {
  const head = new HeadCapture();
  const stored = new DigestStream();
  await pipeline(await layer.open(), head, stored, consume);
  const out = await stored.result();
  if (layer.digest !== undefined && layer.digest !== out.digest) {
    throw new LayerflatError('DIGEST_MISMATCH', `layer ${layer.digest} read back as ${out.digest} while copying`);
  }
  return { digest: out.digest, diffId: layer.diffId, size: out.size, mediaType: layerMediaType(detectCompression(head.head)) };
}

/**
 * Stream `layer` into `consume` — compressed with `compression` if it is new, verbatim if it is
 * a copy — and return its digest, diff_id, stored size and OCI media type. Any stream error
 * rejects (the consumer's partial output is the caller's to discard).
 */
export function writeOutputLayer(layer: OutputLayer, compression: Compression, consume: ChunkConsumer): Promise<WrittenLayer> {
  return layer.kind === 'new' ? writeNew(layer, compression, consume) : writeCopy(layer.layer, consume);
}
