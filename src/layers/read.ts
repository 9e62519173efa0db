/**
 * The one way to a layer's bytes. Whoever reads them — the merge, verify, inspect, a --keep-base
 * copy — comes here, and the read it gets has the checks that fit how the bytes are read already
 * attached, so no caller ever reasons about what was "already checked":
 *
 * - a blob lying in a file is read in place (into reused buffers when the reader allows) and
 *   hashed by reading it back on the hash thread; its size is checked before the first byte;
 * - a blob that only streams is checked inline (size as it grows, digest at its end);
 * - decoded tar bytes are hashed inline against the config's diff_id, unless they are the
 *   stored bytes themselves (a plain blob), when one hash serves both digest and diff_id.
 *
 * Inline checks fail the iteration at its end (before the reader sees the end); checks on the
 * hash thread settle in `checked`, which the reader awaits or hands to a DigestChecks collector.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BufferRing } from '../bytes/ring.js';
import { fileRangeDigest } from '../bytes/file-digest.js';
import { rangeChunks, readHead } from '../bytes/file-range.js';
import { digestMismatch, HeldCheck, sizeMismatch, verified } from '../bytes/verify.js';
import { decompress } from '../compress/decompress.js';
import { detectCompression, MAGIC_LENGTH } from '../compress/detect.js';
import { LayerflatError } from '../errors.js';
import { Digest } from '../image/digest.js';
import type { Compression, FileRange, Layer } from '../image/types.js';

/** A layer's bytes as one reader gets them. */
export interface LayerRead {
  readonly compression: Compression;
  /** The bytes, in order; an inline check fails the iteration at its end. */
  readonly chunks: AsyncIterable<Buffer>;
  /** Checks running beside the read (hash thread); settles once the read is complete. */
  readonly checked: Promise<void>;
  /** The reader stopped early: release the bytes and stop the checks. */
  stop(): void;
  /** A streamed blob: after a failed parse, read the stored bytes left and check the whole blob. */
  rest?(): Promise<void>;
}

export interface TarReadOptions {
  /** Read a plain blob in a file into these reused buffers (the reader is done with each chunk first). */
  ring?: BufferRing;
}

/** The layer's tar bytes, decoded, checked against its blob digest and diff_id. */
export async function readLayerTar(layer: Layer, options: TarReadOptions = {}): Promise<LayerRead> {
  const { source } = layer;
  if ('file' in source) return readFileTar(layer, source.file, options.ring);
  const held = new HeldCheck(toChunks(source.stream()), { digest: layer.digest, size: layer.size }, 'the stored blob');
  const { head, chunks } = await peek(held.chunks(), MAGIC_LENGTH);
  const compression = detectCompression(head);
  const plainChecked = compression === 'none' && layer.digest !== undefined && layer.digest.equals(layer.diffId);
  const decoded = compression === 'none' ? chunks : await decoded$(chunks);
  const read = done(compression, plainChecked ? decoded : diffChecked(decoded, layer.diffId), Promise.resolve());
  return {
    ...read,
    rest: () => held.rest(),
    stop() {
      read.stop();
      held.close();
    },
  };
}

/**
 * The layer's stored bytes as they are (a --keep-base copy), checked against the blob digest —
 * or, for a blob without one, against the diff_id: directly when it is plain, by a decoding
 * pass first when it is compressed (rare: every compressed layer source names its digest). A
 * plain blob is its own uncompressed content, so it is checked against both, by the one hash.
 */
export async function readLayerStored(layer: Layer): Promise<LayerRead> {
  const { source } = layer;
  const compression = detectCompression(await headOf(layer));
  if (!layer.digest && layer.diffId && compression !== 'none') await drainChecked(await readLayerTar(layer));
  const byDiffId = !layer.digest && compression === 'none' ? layer.diffId : undefined;
  // A plain blob named by a digest that is not its diff_id cannot match both: the hash tells which.
  const alsoDiffId = layer.digest && compression === 'none' ? layer.diffId : undefined;
  if ('file' in source) {
    checkRangeSize(layer, source.file);
    const stop = new AbortController();
    const what = byDiffId ? 'content' : 'stored blob';
    const checked = rangeChecked(source.file, layer.digest ?? byDiffId, what, stop, alsoDiffId);
    return done(compression, rangeChunks(source.file), checked, stop);
  }
  const expected = { digest: layer.digest ?? byDiffId, size: layer.size };
  const stored = verified(toChunks(source.stream()), expected, 'the stored blob');
  const plainChecked = alsoDiffId === undefined || alsoDiffId.equals(layer.digest);
  return done(compression, plainChecked ? stored : diffChecked(stored, alsoDiffId), Promise.resolve());
}

/**
 * A reader's parse of `read` failed with `err`. When that is a symptom — the tar or the
 * compressed data ending early, or not being a tar at all — of bytes that are not the image's,
 * the damage is what to report: this waits for the checks beside the read (the hash thread
 * reads the whole blob itself) and throws their mismatch, else `err`. Errors that already say
 * what is wrong and where (BAD_CHECKSUM at an offset, a mismatch) are thrown as they are — for a
 * file, where a damaged header is damage at rest; a streamed blob is read to its end and checked
 * whatever the parse said, since bytes damaged on the way can break any part of the parse.
 */
export async function blame(read: LayerRead, err: unknown): Promise<never> {
  if (read.rest && !isMismatch(err)) {
    await read.rest().catch((failure: unknown) => {
      if (isMismatch(failure)) throw failure;
    });
  } else if (isSymptom(err)) {
    await read.checked.catch((failure: unknown) => {
      if (isMismatch(failure)) throw failure; // anything else (the file ends early too): the symptom says more
    });
  }
  throw err;
}

const isMismatch = (err: unknown) =>
  err instanceof LayerflatError && (err.code === 'DIGEST_MISMATCH' || err.code === 'SIZE_MISMATCH');

/** A failure that damage to the bytes may have caused without saying so (see `blame`). */
function isSymptom(err: unknown): boolean {
  return err instanceof LayerflatError && (err.code === 'TRUNCATED' || err.code === 'NOT_A_TAR');
}

/**
 * `blame` for a pass that read `layer` without its checks (planning on headers alone): reads it
 * again, whole and checked, and throws the mismatch it finds, else `err`.
 */
export async function blameLayer(layer: Layer, err: unknown): Promise<never> {
  if (isSymptom(err)) {
    await (async () => {
      const read = await readLayerTar(layer);
      try {
        for await (const _ of read.chunks);
      } catch (failure) {
        await blame(read, failure);
      }
      await read.checked;
    })().catch((failure: unknown) => {
      if (isMismatch(failure)) throw failure;
    });
  }
  throw err;
}

async function readFileTar(layer: Layer, range: FileRange, ring: BufferRing | undefined): Promise<LayerRead> {
  checkRangeSize(layer, range);
  const compression = detectCompression(await readHead(range, MAGIC_LENGTH));
  const stop = new AbortController();
  if (compression === 'none') {
    // One hash of the stored bytes is the blob digest and the diff_id: both must match it.
    const checked = rangeChecked(range, layer.digest, 'stored blob', stop, layer.diffId);
    return done(compression, ring ? ring.read(range) : rangeChunks(range), checked, stop);
  }
  const checked = layer.digest ? rangeChecked(range, layer.digest, 'stored blob', stop) : Promise.resolve();
  return done(compression, diffChecked(await decoded$(rangeChunks(range)), layer.diffId), checked, stop);
}

/** A descriptor's size against the blob's: a shorter or longer blob fails before any byte is read. */
function checkRangeSize(layer: Layer, range: FileRange): void {
  if (layer.size !== undefined && layer.size !== range.size) {
    throw sizeMismatch({ digest: layer.digest, size: layer.size }, `a blob of ${range.size} bytes`);
  }
}

/** The hash thread's digest of `range` against `digest` and (for plain blobs) `diffId`. */
function rangeChecked(
  range: FileRange,
  digest: Digest | undefined,
  what: string,
  stop: AbortController,
  diffId?: Digest,
): Promise<void> {
  if (!digest && !diffId) return Promise.resolve();
  const checked = fileRangeDigest(range.path, range.start, range.size, stop.signal).then((actual) => {
    if (digest && !actual.equals(digest)) throw digestMismatch(digest, actual, what);
    if (diffId && !actual.equals(diffId)) throw diffMismatch(actual, diffId);
  });
  checked.catch(() => {}); // awaited by the reader or a collector; not unhandled if the read stops early
  return checked;
}

/** Pass decoded bytes through, failing at their end unless they hash to the diff_id. */
async function* diffChecked(chunks: AsyncIterable<Buffer>, diffId: Digest | undefined): AsyncGenerator<Buffer> {
  if (!diffId) return yield* chunks;
  const hash = createHash('sha256');
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
  const actual = Digest.sha256Hex(hash.digest('hex'));
  if (!actual.equals(diffId)) throw diffMismatch(actual, diffId);
}

function diffMismatch(actual: Digest, diffId: Digest): LayerflatError {
  return new LayerflatError(
    'DIGEST_MISMATCH',
    `uncompressed content is ${actual}, but the image config says ${diffId}`,
  );
}

async function decoded$(chunks: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
  const { stream } = await decompress(Readable.from(chunks, { objectMode: false }));
  return stream as AsyncIterable<Buffer>;
}

async function headOf(layer: Layer): Promise<Buffer> {
  const { source } = layer;
  if ('file' in source) return readHead(source.file, MAGIC_LENGTH);
  const iterator = toChunks(source.stream())[Symbol.asyncIterator]();
  try {
    const first = await iterator.next();
    return first.done ? Buffer.alloc(0) : first.value.subarray(0, MAGIC_LENGTH);
  } finally {
    await iterator.return?.();
  }
}

async function drainChecked(read: LayerRead): Promise<void> {
  for await (const _ of read.chunks);
  await read.checked;
}

function toChunks(stream: AsyncIterable<Buffer | Uint8Array>): AsyncIterable<Buffer> {
  return (async function* () {
    for await (const c of stream) yield Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  })();
}

/** The first `n` bytes of `chunks` (fewer if it is shorter), and all of it again from the start. */
async function peek(
  chunks: AsyncIterable<Buffer>,
  n: number,
): Promise<{ head: Buffer; chunks: AsyncIterable<Buffer> }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const taken: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < n) {
    const r = await iterator.next();
    if (r.done) {
      ended = true;
      break;
    }
    taken.push(r.value);
    length += r.value.length;
  }
  const rest = async function* (): AsyncGenerator<Buffer> {
    try {
      yield* taken;
      if (!ended) for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value;
    } finally {
      await iterator.return?.();
    }
  };
  return { head: Buffer.concat(taken).subarray(0, n), chunks: rest() };
}

function done(
  compression: Compression,
  chunks: AsyncIterable<Buffer>,
  checked: Promise<void>,
  stop = new AbortController(),
): LayerRead {
  const iterator = chunks[Symbol.asyncIterator]();
  let stopped = false;
  return {
    compression,
    checked,
    chunks: { [Symbol.asyncIterator]: () => iterator },
    stop() {
      if (stopped) return;
      stopped = true;
      stop.abort();
      void iterator.return?.()?.catch(() => {});
    },
  };
}
