/**
 * Writing one output layer through a sink's consumer while learning its digests. A new layer is
 * tapped uncompressed (its diff_id), compressed as asked, and tapped again (digest, size). A
 * copied layer's stored bytes pass through verbatim; only their digest and size are computed,
 * and their media type comes from their first bytes, since docker-archive sources declare none.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { compressStream } from '../compress/compress.js';
import { DigestStream } from '../bytes/verify.js';
import { GrowingFileDigest, type FileDigest } from '../bytes/file-digest.js';
import { Digest } from '../image/digest.js';
import { layerMediaType } from '../image/media-types.js';
import type { Compression, Layer, OutputLayer } from '../image/types.js';
import { readLayerStored } from '../layers/read.js';
import type { ChunkConsumer } from '../bytes/consumer.js';
import { withContext, withContextEach } from '../errors.js';

/** What was written for one layer. */
export interface WrittenLayer {
  digest: Digest;
  diffId: Digest;
  size: number;
  mediaType: string;
}

/**
 * The digest and size of what passes into `consume`: read back from its file off the main
 * thread when it writes to one (see bytes/file-digest.ts), else hashed on the way through.
 */
async function consumeDigested(source: AsyncIterable<Buffer>, consume: ChunkConsumer): Promise<FileDigest> {
  if (!consume.file) {
    const stored = new DigestStream();
    await pipeline(source, stored, (chunks: AsyncIterable<Buffer>) => consume.write(chunks));
    return stored.result();
  }
  const digest = new GrowingFileDigest(consume.file.path, consume.file.start);
  let size = 0;
  try {
    await consume.write(source, (bytes) => digest.advance((size = bytes)));
  } catch (err) {
    digest.cancel();
    throw err;
  }
  return digest.finish(size);
}

async function writeNew(
  layer: Extract<OutputLayer, { kind: 'new' }>,
  compression: Compression,
  consume: ChunkConsumer,
): Promise<WrittenLayer> {
  if (compression === 'none') {
    // stored bytes = uncompressed bytes: one digest (a multi-GB layer hashed twice costs as much as reading it).
    // A file consumer copies or writes each chunk before asking for the next (fileConsumer), so
    // the layer may come in chunks of reused buffers; a stream consumer may queue chunks.
    const diff = await consumeDigested(await layer.open({ chunksMayBeReused: consume.file !== undefined }), consume);
    return { digest: diff.digest, diffId: diff.digest, size: diff.size, mediaType: layerMediaType(compression) };
  }
  // The diff_id is hashed inline as the bytes go into the compressor (no stream stage of its own).
  const diff = createHash('sha256');
  async function* hashed(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      diff.update(chunk);
      yield chunk;
    }
  }
  const compressor = compressStream(compression);
  const feeding = pipeline(hashed(await layer.open()), compressor);
  feeding.catch(() => {}); // awaited below; a source failure also reaches the consumer through the compressor
  let out: FileDigest;
  try {
    out = await consumeDigested(compressor, consume);
  } catch (err) {
    compressor.destroy(err as Error); // ends the feeding pipeline too
    await feeding.catch(() => undefined);
    throw err;
  }
  await feeding;
  return {
    digest: out.digest,
    diffId: Digest.sha256Hex(diff.digest('hex')),
    size: out.size,
    mediaType: layerMediaType(compression),
  };
}

/**
 * A kept layer's stored bytes, verbatim; read through layers/read.ts, so they are checked as they
 * go. What the reading or its checks throw names the layer (`where`); the consumer's own errors
 * (the output's) already name the output.
 */
async function writeCopy(layer: Layer, where: string | undefined, consume: ChunkConsumer): Promise<WrittenLayer> {
  const named = (err: unknown) => (where === undefined ? err : withContext(err, where));
  const read = await readLayerStored(layer).catch((err: unknown) => {
    throw named(err);
  });
  let out: FileDigest;
  try {
    out = await consumeDigested(where === undefined ? read.chunks : withContextEach(read.chunks, where), consume);
    await read.checked.catch((err: unknown) => {
      throw named(err);
    });
  } catch (err) {
    read.stop();
    throw err;
  }
  return { digest: out.digest, diffId: layer.diffId!, size: out.size, mediaType: layerMediaType(read.compression) };
}

/**
 * Stream `layer` into `consume` — compressed with `compression` if it is new, verbatim if it is
 * a copy — and return its digest, diff_id, stored size and OCI media type. Any stream error
 * rejects (the consumer's partial output is the caller's to discard).
 */
export function writeOutputLayer(
  layer: OutputLayer,
  compression: Compression,
  consume: ChunkConsumer,
): Promise<WrittenLayer> {
  return layer.kind === 'new' ? writeNew(layer, compression, consume) : writeCopy(layer.layer, layer.where, consume);
}
