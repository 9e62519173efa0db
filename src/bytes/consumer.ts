/**
 * Where bytes go as they are produced: a consumer that writes them into a file (and can say
 * where, so their digest can be read back off the main thread) or into a stream, and the
 * coalescing that turns a merged layer's many small pieces into few large writes.
 */
/** Receives a member's bytes in order. */
export interface ChunkConsumer {
  /** Write `chunks` in order, calling `onWritten` with the running total after each write lands. */
  write(chunks: AsyncIterable<Buffer>, onWritten?: (bytes: number) => void): Promise<void>;
  /**
   * Where the bytes land when they go into a file (from byte `start` of `path`), so their digest
   * can be read back off the main thread; undefined when they go to a stream. A file consumer
   * is done with each chunk (copied, or written) before it asks for the next.
   */
  readonly file?: { path: string; start: number };
}

/** A consumer whose bytes `append` writes, in order, into `path` from byte `start` on. */
export function fileConsumer(path: string, start: number, append: (chunk: Buffer) => Promise<void>): ChunkConsumer {
  return {
    file: { path, start },
    async write(chunks, onWritten) {
      let written = 0;
      for await (const chunk of coalesceInPlace(chunks)) {
        await append(chunk); // awaited: the piece may be reused once this returns
        written += chunk.length;
        onWritten?.(written);
      }
    },
  };
}

/**
 * Join small chunks into writes of about `target` bytes: a merged layer arrives as many small
 * pieces (a 512-byte header per file), and one system call each would dominate the run time.
 */
export async function* coalesce(chunks: AsyncIterable<Buffer>, target = 1 << 20): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    pending.push(chunk);
    size += chunk.length;
    if (size < target) continue;
    yield pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
    pending = [];
    size = 0;
  }
  if (size > 0) yield Buffer.concat(pending, size);
}

/**
 * `coalesce` into one buffer used over and over, for a caller that is done with each piece
 * before it asks for the next (an awaited file write). A new 1 MiB buffer per write would be
 * garbage V8 collects only every ~64 MB, which showed as peak RSS.
 */
async function* coalesceInPlace(chunks: AsyncIterable<Buffer>, target = 1 << 20): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafeSlow(target);
  let fill = 0;
  for await (const chunk of chunks) {
    if (fill === 0 && chunk.length >= target) {
      yield chunk; // big enough to write as it is
      continue;
    }
    for (let at = 0; at < chunk.length;) {
      const n = Math.min(target - fill, chunk.length - at);
      chunk.copy(buf, fill, at, at + n);
      fill += n;
      at += n;
      if (fill === target) {
        yield buf;
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}
