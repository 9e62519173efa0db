/**
 * Reading a stream ahead of its consumer, up to a byte cap: the next layer's blob starts arriving
 * while the current one is merged, and a slow network is hidden behind the work on the current
 * layer. Past the cap the source is not asked for more (so an HTTP response stops being read and
 * TCP holds the server back); memory stays within the cap per stream read ahead.
 */

/** A stream being read ahead; `chunks()` hands over what came so far, then the rest. */
export class ReadAhead {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private error: unknown;
  private ended = false;
  private taken = false;
  private wake: (() => void) | undefined;
  private room: (() => void) | undefined;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly cap: number,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
    void this.fill();
  }

  private async fill(): Promise<void> {
    try {
      for (;;) {
        while (this.queued >= this.cap) await new Promise<void>((resolve) => (this.room = resolve));
        if (this.ended) return;
        const next = await this.iterator.next();
        if (next.done) break;
        this.queue.push(next.value);
        this.queued += next.value.length;
        this.signal();
      }
    } catch (err) {
      this.error = err;
    }
    this.ended = true;
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** The bytes in order; once. */
  async *chunks(): AsyncGenerator<Buffer> {
    if (this.taken) throw new Error('a read-ahead stream is read once');
    this.taken = true;
    try {
      for (;;) {
        const chunk = this.queue.shift();
        if (chunk) {
          this.queued -= chunk.length;
          const r = this.room;
          this.room = undefined;
          r?.();
          yield chunk;
          continue;
        }
        if (this.ended) {
          if (this.error !== undefined) throw this.error;
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.cancel();
    }
  }

  /** Stop reading: release the source (an HTTP response is destroyed by its iterator's return). */
  cancel(): void {
    if (this.ended && this.queue.length === 0) return;
    this.ended = true;
    this.queue.length = 0;
    this.queued = 0;
    const r = this.room;
    this.room = undefined;
    r?.();
    void this.iterator.return?.().catch(() => undefined);
  }
}
