/**
 * Reading a file range into a few buffers taken in turn, one read ahead, instead of a new buffer
 * per read. A big file's data then streams through without garbage: V8 frees read buffers late
 * and glibc keeps their pages, which cost ~40 MB of RSS for one 1 GiB file.
 *
 * Only for a reader that is done with each chunk (has copied or written it) before it asks for
 * the next: a chunk's memory is read into again `buffers - 1` chunks later.
 */
import fs from 'node:fs';
import { asLayerflatError } from '../errors.js';
import type { FileRange } from '../image/types.js';
import { readFully, truncated } from './file-range.js';

export interface RingOptions {
  /** Bytes per read (default 256 KiB). */
  chunk?: number;
  /** Buffers taken in turn (default 3, at least 2: one being read, one handed out). */
  buffers?: number;
}

export class BufferRing {
  readonly chunk: number;
  readonly buffers: number;
  /** How many reads were made through this ring (tests check the ring was used). */
  reads = 0;

  constructor(options: RingOptions = {}) {
    this.chunk = options.chunk ?? 256 * 1024;
    this.buffers = Math.max(2, options.buffers ?? 3);
  }

  /** The bytes of `range`, in chunks of reused buffers. */
  async *read(range: FileRange): AsyncGenerator<Buffer> {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(range.path, 'r');
    } catch (err) {
      throw asLayerflatError(err, range.path);
    }
    try {
      const ring = Array.from({ length: this.buffers }, () => Buffer.allocUnsafeSlow(this.chunk));
      const readAt = async (pos: number, k: number): Promise<Buffer> => {
        const buf = ring[k % this.buffers]!;
        this.reads++;
        const want = Math.min(this.chunk, range.size - pos);
        const got = await readFully(fh, buf, 0, want, range.start + pos).catch((err: unknown) => {
          throw asLayerflatError(err, range.path);
        });
        if (got < want) throw truncated(range, pos + got);
        return buf.subarray(0, got);
      };
      let pos = 0;
      let k = 0;
      let next = range.size > 0 ? readAt(0, 0) : undefined;
      while (next) {
        const current = await next;
        pos += current.length;
        k++;
        next = pos < range.size ? readAt(pos, k) : undefined;
        next?.catch(() => {}); // awaited on the next turn; not unhandled if the reader stops first
        yield current;
      }
    } finally {
      await fh.close(); // after any read still in flight (FileHandle.close waits for pending operations)
    }
  }
}
