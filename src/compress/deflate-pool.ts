/**
 * Compresses blocks as raw deflate for ParallelGzip, several at once, on the libuv threadpool
 * (node:zlib's async API): each block is one threadpool job, since its output buffer is sized
 * to hold the whole result and zlib then never comes back to the main thread mid-block.
 *
 * Why not worker threads (the first version): a worker allocates each block's output in its
 * own small heap, which almost never collects garbage, so every worker held up to ~64 MB of dead
 * buffers (V8 collects external memory in 64 MB steps) and gzip output peaked near 280 MB RSS.
 * Here the outputs are ordinary main-heap buffers, freed as the output is written, and there are
 * no extra isolates. The threadpool is shared with file I/O: at most `threads + 1` blocks run
 * at once — one more than the cores, so a core never idles while the main thread is slow to hand
 * over the next block (measured 8% faster than `threads`) — and always one threadpool thread
 * fewer than the pool has (UV_THREADPOOL_SIZE, 4 unless set; the CLI sizes it to the cores), so
 * reads and writes never queue behind compression.
 *
 * One scheduler serves all ParallelGzip streams of the process; it runs as many blocks at once
 * as the largest `threads` any stream has asked for.
 */
import zlib from 'node:zlib';
import { LayerflatError } from '../errors.js';

export interface DeflateJob {
  /** How many blocks the submitter would like compressed at once (the pool takes the largest). */
  readonly threads: number;
  readonly level: number;
  readonly last: boolean; // finish the deflate stream (else end with a sync flush)
  readonly data: Buffer;
  readonly dictionary: Buffer | undefined; // up to 32 KiB of the input just before `data`
  /** Set by the owner when it no longer wants the result; queued jobs are then dropped. */
  cancelled: boolean;
  done(err: Error | null, out?: Buffer): void;
}

class DeflatePool {
  private readonly queue: DeflateJob[] = [];
  private wanted = 1;
  private active = 0;

  submit(job: DeflateJob): void {
    this.wanted = Math.max(this.wanted, Math.max(1, Math.min(job.threads + 1, threadpoolSize() - 1)));
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.active < this.wanted && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (!job.cancelled) this.run(job);
    }
    if (this.active === 0 && this.queue.length === 0) this.wanted = 1;
  }

  private run(job: DeflateJob): void {
    const finished = (err: Error | null, out?: Buffer): void => {
      this.active--;
      this.pump();
      if (job.cancelled) return;
      if (err) job.done(new LayerflatError('IO', `gzip compression failed: ${err.message}`, { cause: err }));
      // The output is a view of a buffer sized for the worst case; a copy lets that go now
      // rather than keep ~2.5× the bytes alive while the block waits its turn to be written.
      else job.done(null, out && out.length < out.buffer.byteLength / 2 ? Buffer.from(out) : out);
    };
    this.active++;
    try {
      const options: zlib.ZlibOptions = {
        level: job.level,
        // room for the whole block's output (deflate's worst case is a little over the input)
        chunkSize: Math.max(16 * 1024, job.data.length + (job.data.length >>> 8) + 1024),
        finishFlush: job.last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      };
      if (job.dictionary) options.dictionary = job.dictionary;
      zlib.deflateRaw(job.data, options, finished);
    } catch (err) {
      // bad options throw synchronously; report them like any failure, after this call returns
      process.nextTick(() => finished(err as Error));
    }
  }

  /** Blocks being compressed now (for tests). */
  get running(): number {
    return this.active;
  }
}

/** The threads libuv's pool has: UV_THREADPOOL_SIZE as libuv reads it (1..1024), else its default 4. */
export function threadpoolSize(): number {
  const n = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1024) : 4;
}

let pool: DeflatePool | undefined;

/** The process-wide deflate scheduler. */
export function deflatePool(): DeflatePool {
  pool ??= new DeflatePool();
  return pool;
}

export type { DeflatePool };
