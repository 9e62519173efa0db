/**
 * readTar: iterate the entries of a tar byte stream, with their raw header bytes, streaming each
 * entry's data as subarrays of the incoming chunks. Memory stays bounded whatever the entry sizes.
 */
import type { TarEntry } from './entry.js';
import { padLength } from './header.js';
import { HeaderMachine } from './machine.js';
import { ChunkSource } from './source.js';

export interface TarReadItem {
  entry: TarEntry;
  /**
   * Stream the entry's stored data bytes (exactly entry.dataSize bytes, no padding). May be
   * skipped: the reader then discards them. Call at most once, before asking for the next item.
   * Chunks are subarrays of the input chunks: copy what you keep beyond the next read.
   */
  body(): AsyncIterable<Buffer>;
}

/**
 * Iterate the entries of a tar byte stream. `where` names the archive in error messages
 * (e.g. "layer 3 (sha256:abcd…)"). Any chunking of the input works. After the end-of-archive
 * blocks the rest of the input is read and discarded, so upstream digests complete.
 * Errors: LayerflatError NOT_A_TAR, TRUNCATED, BAD_CHECKSUM, BAD_TAR, BAD_PATH.
 */
export async function* readTar(
  input: AsyncIterable<Buffer>,
  options: { where?: string } = {},
): AsyncGenerator<TarReadItem> {
  const m = new HeaderMachine(options.where);
  const src = new ChunkSource(input);
  try {
    for (;;) {
      const need = m.need;
      const bytes = src.readNow(need) ?? (await src.read(need));
      if (bytes.length < need) return m.atEof(bytes.length, bytes);
      const step = m.feed(bytes);
      if (step === 'more') continue;
      if (step === 'end') return await src.drain();
      const body = new Body(src, m, step);
      yield { entry: step, body: () => body.open() };
      body.closed = true;
      const dataLeft = body.left;
      const rest = dataLeft + padLength(step.dataSize);
      let skipped = src.skipNow(rest);
      if (skipped < rest) skipped += await src.skip(rest - skipped);
      // Some writers (umoci insert) end the stream right after the last entry's data, without
      // padding or end-of-archive blocks; the data is whole, so that is an end, not a truncation
      // (a real truncation still fails the layer's diff_id check).
      if (skipped < rest && skipped >= dataLeft) return;
      if (skipped < rest) throw m.truncatedData(step, m.pos - (rest - skipped));
    }
  } finally {
    await src.close();
  }
}

const DONE: Promise<IteratorResult<Buffer>> = Promise.resolve({ done: true, value: undefined });

/**
 * One entry's data: handed out at most once, and only until the reader moves on. A hand-made
 * async iterator (not an async generator) so that small entries cost little.
 */
class Body implements AsyncIterableIterator<Buffer> {
  left: number;
  closed = false;
  private opened = false;
  private returned = false;

  constructor(
    private readonly src: ChunkSource,
    private readonly m: HeaderMachine,
    private readonly entry: TarEntry,
  ) {
    this.left = entry.dataSize;
  }

  open(): AsyncIterableIterator<Buffer> {
    if (this.opened) throw new Error(`tar reader: body() of ${JSON.stringify(this.entry.path)} called twice`);
    if (this.closed) throw new Error(`tar reader: body() of ${JSON.stringify(this.entry.path)} called after moving on`);
    this.opened = true;
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.left === 0 || this.returned) return DONE;
    if (this.closed) {
      return Promise.reject(new Error(`tar reader: data of ${JSON.stringify(this.entry.path)} read after moving on`));
    }
    const chunk = this.src.takeNow(this.left);
    if (!chunk) return this.nextAsync();
    this.left -= chunk.length;
    return Promise.resolve({ done: false, value: chunk });
  }

  return(): Promise<IteratorResult<Buffer>> {
    this.returned = true;
    return DONE;
  }

  private async nextAsync(): Promise<IteratorResult<Buffer>> {
    const chunk = await this.src.take(this.left);
    if (!chunk) {
      const at = this.entry.offset + this.entry.header.length + this.entry.dataSize - this.left;
      throw this.m.truncatedData(this.entry, at);
    }
    this.left -= chunk.length;
    return { done: false, value: chunk };
  }
}
