/**
 * A pull-based view over an async iterable of byte chunks, for the stream reader. Sync fast paths
 * (`…Now`) serve from the current chunk without awaiting; the async ones fetch more. Data is handed
 * out as subarrays of the incoming chunks; only `read` copies (for header blocks).
 */
const EMPTY = Buffer.alloc(0);

export class ChunkSource {
  private chunk: Buffer = EMPTY;
  private at = 0;
  private ended = false;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.it = input[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes copied into a new buffer, if the current chunk holds them. */
  readNow(n: number): Buffer | undefined {
    if (this.chunk.length - this.at < n) return undefined;
    const out = Buffer.allocUnsafe(n);
    this.chunk.copy(out, 0, this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** `n` bytes copied into a new buffer; shorter only if the input ends first. */
  async read(n: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n && (await this.fill())) {
      const k = Math.min(n - got, this.chunk.length - this.at);
      this.chunk.copy(out, got, this.at, this.at + k);
      this.at += k;
      got += k;
    }
    return got === n ? out : out.subarray(0, got);
  }

  /** Up to `max` bytes as a subarray of the current chunk, if it has any left. */
  takeNow(max: number): Buffer | undefined {
    const left = this.chunk.length - this.at;
    if (left === 0) return undefined;
    const k = Math.min(max, left);
    const out = this.chunk.subarray(this.at, this.at + k);
    this.at += k;
    return out;
  }

  /** Up to `max` (> 0) bytes, waiting for input; undefined at the end of input. */
  async take(max: number): Promise<Buffer | undefined> {
    return (await this.fill()) ? this.takeNow(max) : undefined;
  }

  /** Skip up to `n` bytes; returns how many were skipped (fewer only at the end of input). */
  async skip(n: number): Promise<number> {
    let done = this.skipNow(n);
    while (done < n && (await this.fill())) done += this.skipNow(n - done);
    return done;
  }

  /** Skip up to `n` bytes of the current chunk; returns how many. */
  skipNow(n: number): number {
    const k = Math.min(n, this.chunk.length - this.at);
    this.at += k;
    return k;
  }

  /** Consume the rest of the input (so upstream hashing and decompression run to the end). */
  async drain(): Promise<void> {
    this.at = this.chunk.length;
    while (await this.fill()) this.at = this.chunk.length;
  }

  /** Release the input if it was not read to the end. */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }

  /** Make sure the current chunk has bytes left; false at the end of input. */
  private async fill(): Promise<boolean> {
    while (this.at >= this.chunk.length) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      const v = r.value;
      this.chunk = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.at = 0;
    }
    return true;
  }
}
