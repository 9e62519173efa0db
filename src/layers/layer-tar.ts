/**
 * A source layer as a re-readable sequence of checked tar entries — how flatten, verify and
 * inspect all see a layer. Reading goes through read.ts, so every pass is checked whichever way
 * its bytes are read; errors name the layer once (withContext).
 */
import type { BufferRing } from '../bytes/ring.js';
import { withContext, withContextEach } from '../errors.js';
import type { Compression, Image, Layer } from '../image/types.js';
import { readTar, type TarReadItem } from '../tar/reader.js';
import { blame, readLayerTar, type LayerRead } from './read.js';

/** A layer as the merge, verify and inspect see it: tar entries that can be read again. */
export interface LayerTar {
  /** Names the layer in messages, e.g. "layer 3/14 (sha256:ab12…) of x.tar". */
  readonly where: string;
  /** Read the layer's entries from the start; a second call reads (and checks) it again. */
  entries(): AsyncIterable<TarReadItem>;
}

/** Byte counts of one layer, updated as it is read (for progress and --json). */
export interface LayerReadStats {
  /** Uncompressed tar bytes read, over every pass. */
  tarBytes: number;
  /** How many times the layer was opened (more than 1 only when hardlinks needed a re-read). */
  passes: number;
  compression?: Compression;
}

/**
 * Checks still running on the hash thread. A command that can wait for them until its output
 * is complete (flatten, before anything is put in place) collects them here, so the main thread
 * never stops for the hash thread at a layer's end; without a collector each check is awaited
 * when its layer's read ends. A failure shows at the next layer's start, and at `settle`.
 */
export class DigestChecks {
  private readonly running = new Map<Promise<void>, () => void>();
  private failure: unknown;

  /** Track `check`; `stop` ends its hashing if the run is abandoned. */
  add(check: Promise<void>, stop: () => void): void {
    const tracked: Promise<void> = check
      .catch((err: unknown) => void (this.failure ??= err))
      .finally(() => this.running.delete(tracked));
    this.running.set(tracked, stop);
  }

  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Wait for every check; throws the first failure. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.keys());
    this.throwIfFailed();
  }

  /** The run failed: stop hashing, nobody will wait for the results. */
  abandon(): void {
    for (const stop of this.running.values()) stop();
  }
}

export interface LayerTarOptions {
  stats?: LayerReadStats;
  /** Collect hash-thread checks rather than wait for each at its layer's end. */
  checks?: DigestChecks;
  /** Read plain blobs in files into these reused buffers (see TarReadOptions). */
  ring?: BufferRing;
}

/** A LayerTar over `layer`; `where` names it in messages. */
export function layerTar(
  layer: Layer,
  where: string,
  options: LayerTarOptions = {},
): LayerTar & { stats: LayerReadStats } {
  const stats = options.stats ?? { tarBytes: 0, passes: 0 };
  return { where, stats, entries: () => withContextEach(readEntries(layer, where, stats, options), where) };
}

/** How messages name layer `i` of `image`: "layer 3/14 (sha256:ab12…) of docker-archive:x.tar". */
export function layerWhere(image: Image, i: number): string {
  const id = image.layers[i]!.diffId ?? image.layers[i]!.digest;
  return `layer ${i + 1}/${image.layers.length}${id ? ` (${id.short()}…)` : ''} of ${image.origin}`;
}

async function* readEntries(
  layer: Layer,
  where: string,
  stats: LayerReadStats,
  options: LayerTarOptions,
): AsyncGenerator<TarReadItem> {
  const { checks } = options;
  checks?.throwIfFailed();
  stats.passes++;
  const read = await readLayerTar(layer, { ring: options.ring });
  stats.compression = read.compression;
  let complete = false;
  try {
    // readTar drains the bytes after the end-of-archive blocks, so the inline checks see them all.
    // A parse that fails on damaged bytes, between entries or inside one's data, reports the damage.
    try {
      for await (const item of readTar(counted(read, stats, () => (complete = true)))) {
        yield { ...item, body: () => blamed(item.body(), read) };
      }
    } catch (err) {
      await blame(read, err);
    }
    const checked = read.checked.catch((err: unknown) => {
      throw withContext(err, where); // a collected check fails later, outside this layer's loop
    });
    if (checks) checks.add(checked, () => read.stop());
    else await checked;
  } finally {
    if (!complete) read.stop(); // the read failed or was abandoned: its checks can only fail the run too
  }
}

/** Count the tar bytes as they pass; a plain generator rather than a stream stage on the hot path. */
async function* counted(read: LayerRead, stats: LayerReadStats, onEnd: () => void): AsyncGenerator<Buffer> {
  for await (const chunk of read.chunks) {
    stats.tarBytes += chunk.length;
    yield chunk;
  }
  onEnd();
}

/** An entry's data, whose read failing on damaged bytes reports the damage (see blame). */
function blamed(body: AsyncIterable<Buffer>, read: LayerRead): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = body[Symbol.asyncIterator]();
      return {
        next: () => iterator.next().catch((err: unknown) => blame(read, err)),
        return: (value?: unknown) => iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
      };
    },
  };
}
