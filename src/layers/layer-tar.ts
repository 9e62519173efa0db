/**
 * A source layer as a re-readable sequence of tar entries: open the stored blob, decode it
 * (plain, gzip or zstd, by magic bytes), check it against the config's diff_id, parse it.
 * Shared by flatten, verify and inspect, so every command reads layers the same way.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { decompress } from '../compress/decompress.js';
import { detectCompression, MAGIC_LENGTH } from '../compress/detect.js';
import { LayerflatError } from '../errors.js';
import { fileRangeDigest } from '../bytes/file-digest.js';
import type { Compression, FileRange, Image, Layer } from '../image/types.js';
import type { LayerTar } from '../merge/merge-stream.js';
import { scanTarFile } from '../tar/list-file.js';
import { readTar, type TarReadItem } from '../tar/reader.js';

/** Byte counts of one layer, updated as it is read (for progress and --json). */
export interface LayerReadStats {
  /** Uncompressed tar bytes read, over every pass. */
  tarBytes: number;
  /** How many times the layer was opened (more than 1 only when hardlinks needed a re-read). */
  passes: number;
  compression?: Compression;
}

/**
 * diff_id checks still running on the hashing thread. A command that can wait for them until
 * its output is complete (flatten, before anything is put in place) collects them here, so the
 * main thread never stops for the hashing thread at a layer's end; without a collector each
 * check is awaited when its layer's read ends. A failure shows at the next layer's start.
 */
export class DigestChecks {
  private readonly running = new Map<Promise<void>, AbortController>();
  private failure: Error | undefined;

  /** Track `check`; `stop` ends its hashing if the run is abandoned. */
  add(check: Promise<void>, stop: AbortController): void {
    const tracked: Promise<void> = check
      .catch((err: Error) => void (this.failure ??= err))
      .finally(() => this.running.delete(tracked));
    this.running.set(tracked, stop);
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Wait for every check; throws the first failure. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.keys());
    this.throwIfFailed();
  }

  /** The run failed: stop hashing, nobody will wait for the results. */
  abandon(): void {
    for (const stop of this.running.values()) stop.abort();
  }
}

export interface LayerTarOptions {
  stats?: LayerReadStats;
  /** Collect diff_id checks rather than wait for each at its layer's end. */
  checks?: DigestChecks;
}

/** A LayerTar over `layer`; `where` names it in messages ("layer 3/14 (sha256:ab12…)"). */
export function layerTar(
  layer: Layer,
  where: string,
  options: LayerTarOptions = {},
): LayerTar & { stats: LayerReadStats } {
  const stats = options.stats ?? { tarBytes: 0, passes: 0 };
  let checked = false; // a hardlink re-read need not hash the layer again
  const read = (o: { reuseBuffers?: boolean } = {}) => {
    const check = !checked;
    checked = true;
    return readEntries(layer, where, stats, {
      checkDigest: check,
      checks: options.checks,
      reuseBuffers: o.reuseBuffers === true,
    });
  };
  return { where, stats, entries: read };
}

/**
 * The same layer for planning only: entries whose data is never read. A plain tar lying in a
 * file is read in place, header blocks only, seeking over the data; anything else (compressed,
 * or not in a file) is decoded and its data skipped. No diff_id check: the copying pass does it.
 */
export function layerHeaders(layer: Layer, where: string): LayerTar {
  return { where, entries: () => readHeaders(layer, where) };
}

async function* readHeaders(layer: Layer, where: string): AsyncGenerator<TarReadItem> {
  const at = layer.location;
  if (!at || (await storedCompression(at)) !== 'none') {
    for await (const item of readEntries(layer, where, { tarBytes: 0, passes: 0 }, { checkDigest: false })) yield item;
    return;
  }
  const body = (): never => {
    throw new Error(`${where}: entry data is not read while planning`);
  };
  for await (const entry of scanTarFile(at.path, { where, start: at.start, length: at.size })) yield { entry, body };
}

async function storedCompression(at: FileRange): Promise<Compression> {
  const fh = await open(at.path, 'r');
  try {
    const head = Buffer.alloc(Math.min(MAGIC_LENGTH, at.size));
    await fh.read(head, 0, head.length, at.start);
    return detectCompression(head);
  } finally {
    await fh.close();
  }
}

/** How messages name layer `i` of `image`: "layer 3/14 (sha256:ab12…) of docker-archive:x.tar". */
export function layerWhere(image: Image, i: number): string {
  return `layer ${i + 1}/${image.layers.length} (${shortDigest(image.layers[i]!.diffId)}) of ${image.origin}`;
}

/** Short form of a digest for messages: "sha256:0123456789ab". */
export function shortDigest(digest: string | undefined): string {
  return digest ? digest.slice(0, 19) : 'unknown digest';
}

interface ReadOptions {
  /** Check the diff_id (not on a hardlink re-read, nor when planning). */
  checkDigest: boolean;
  checks?: DigestChecks;
  reuseBuffers?: boolean;
}

async function* readEntries(
  layer: Layer,
  where: string,
  stats: LayerReadStats,
  options: ReadOptions,
): AsyncGenerator<TarReadItem> {
  const { checkDigest, checks, reuseBuffers = false } = options;
  checks?.throwIfFailed();
  stats.passes++;
  const { stream, compression } = await openDecoded(layer, where, reuseBuffers);
  stats.compression = compression;
  // Nothing to check against (a filesystem tar), or an uncompressed blob whose digest is its
  // diff_id, already checked by open(): no hash here.
  const alreadyChecked = compression === 'none' && layer.digest === layer.diffId;
  const wanted = checkDigest && layer.diffId !== undefined && layer.diffId !== '' && !alreadyChecked;
  // A plain tar lying in a file is hashed by reading it back on the hashing thread; anything
  // else (decompressed here, or not in a file) is hashed on the way through.
  const at = layer.location;
  const offThread = wanted && at !== undefined && compression === 'none';
  const hash = wanted && !offThread ? createHash('sha256') : undefined;
  let check: Promise<void> | undefined;
  const stopCheck = new AbortController();
  if (offThread) {
    check = fileRangeDigest(at.path, at.start, at.size, stopCheck.signal).then((digest) =>
      checkDiffId(layer, digest, where),
    );
    check.catch(() => {}); // awaited at the layer's end, or by `checks`; not unhandled if the read stops early
    if (checks) checks.add(check, stopCheck);
  }
  let complete = false;
  try {
    yield* readTar(
      counted(stream, hash, stats, () => (complete = true)),
      { where },
    );
    // readTar drains the stream after the end-of-archive blocks, so the hash covers every byte.
    if (complete && hash) checkDiffId(layer, `sha256:${hash.digest('hex')}`, where);
    if (complete && check && !checks) await check;
  } finally {
    if (!complete) {
      stream.destroy();
      stopCheck.abort(); // the read failed or was abandoned: its check can only fail the run too
    }
  }
}

/**
 * The layer's tar bytes: decoded from `layer.open()`, or — when the reader allows reused
 * buffers and the layer is a plain tar in a file — read in place into a few buffers taken in
 * turn. A big file's data then streams through without a new buffer per read: V8 frees those
 * late and glibc keeps the pages, which cost ~40 MB of RSS for one 1 GiB file.
 */
async function openDecoded(
  layer: Layer,
  where: string,
  reuseBuffers: boolean,
): Promise<{ stream: AsyncIterable<Buffer> & { destroy(): void }; compression: Compression }> {
  const at = layer.location;
  if (reuseBuffers && at && (await storedCompression(at)) === 'none') {
    return { stream: reusedReads(at, where), compression: 'none' };
  }
  return decompress(await layer.open(), where);
}

/** Chunk size and ring size of `reusedReads` (tests shrink them), and how many reads it made. */
export const REUSED_READ = { chunk: 256 * 1024, buffers: 3, reads: 0 };

/**
 * The bytes of `at`, read REUSED_READ.chunk at a time into REUSED_READ.buffers buffers taken in
 * turn, one read ahead: a chunk's memory is read into again two chunks later, by which time the
 * reader (who promised to be done with each chunk before asking for the next) has long let it go.
 */
function reusedReads(at: FileRange, where: string): AsyncIterable<Buffer> & { destroy(): void } {
  async function* chunks(): AsyncGenerator<Buffer> {
    const fh = await open(at.path, 'r');
    try {
      const { chunk, buffers } = REUSED_READ;
      const ring = Array.from({ length: buffers }, () => Buffer.allocUnsafeSlow(chunk));
      const readAt = async (pos: number, k: number): Promise<Buffer> => {
        const buf = ring[k % buffers]!;
        REUSED_READ.reads++;
        const want = Math.min(chunk, at.size - pos);
        let got = 0;
        while (got < want) {
          const { bytesRead } = await fh.read(buf, got, want - got, at.start + pos + got);
          if (bytesRead === 0)
            throw new LayerflatError(
              'TRUNCATED',
              `${where}: the file ends inside the layer (at byte ${pos + got} of ${at.size})`,
            );
          got += bytesRead;
        }
        return buf.subarray(0, got);
      };
      let pos = 0;
      let k = 0;
      let next = at.size > 0 ? readAt(0, 0) : undefined;
      while (next) {
        const current = await next;
        pos += current.length;
        k++;
        next = pos < at.size ? readAt(pos, k) : undefined;
        next?.catch(() => {}); // awaited on the next turn; not unhandled if the reader stops first
        yield current;
      }
    } finally {
      await fh.close(); // after any read still in flight (FileHandle.close waits for pending operations)
    }
  }
  const it = chunks();
  return {
    [Symbol.asyncIterator]: () => it,
    destroy: () => void it.return(undefined).catch(() => {}),
  };
}

/**
 * Pass chunks through, counting and (when asked) hashing them. A plain generator rather than a
 * Transform stream: one stage less on the hot path.
 */
async function* counted(
  stream: AsyncIterable<Buffer>,
  hash: ReturnType<typeof createHash> | undefined,
  stats: LayerReadStats,
  onEnd: () => void,
): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    hash?.update(chunk);
    stats.tarBytes += chunk.length;
    yield chunk;
  }
  onEnd();
}

function checkDiffId(layer: Layer, actual: string, where: string): void {
  if (layer.diffId && actual !== layer.diffId) {
    throw new LayerflatError(
      'DIGEST_MISMATCH',
      `${where}: uncompressed content is ${actual}, but the image config says ${layer.diffId}`,
    );
  }
}
