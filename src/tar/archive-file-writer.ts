/**
 * Writing an outer archive (docker-archive, oci-archive) sequentially into a file. A member
 * whose size and name are unknown until its bytes have streamed — a new layer, named by its
 * digest — gets a 512-byte header slot reserved, its bytes written after it, and the real header
 * written back into the slot with a positioned write. Members are named to fit one header block
 * ("blobs/sha256/<64 hex>" is 77 bytes), so the slot never needs to grow.
 */
import fs from 'node:fs';
import { LayerflatError } from '../errors.js';
import { END_OF_ARCHIVE, buildHeader, paddingFor } from './writer.js';

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

const BLOCK = 512;

/** Write `buf` completely at `position` (a positioned write may be short). */
export async function writeFully(fh: fs.promises.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
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
export async function* coalesceInPlace(chunks: AsyncIterable<Buffer>, target = 1 << 20): AsyncGenerator<Buffer> {
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

/** An archive being written to a file; members are appended in call order. */
export class TarFileWriter {
  private position = 0;

  private constructor(
    private readonly fh: fs.promises.FileHandle,
    private readonly path: string,
  ) {}

  /** Open (create or truncate) `file` for writing an archive. */
  static async create(file: string): Promise<TarFileWriter> {
    return new TarFileWriter(await fs.promises.open(file, 'w'), file);
  }

  private async append(buf: Buffer): Promise<void> {
    await writeFully(this.fh, buf, this.position);
    this.position += buf.length;
  }

  /** Append a directory entry (for tools that extract the archive and expect one). */
  async addDirectory(name: string): Promise<void> {
    await this.append(buildHeader({ path: name, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 }));
  }

  /** Append a regular file with the given content. */
  async addFile(name: string, data: Buffer): Promise<void> {
    await this.append(
      buildHeader({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: data.length }),
    );
    await this.append(data);
    await this.append(paddingFor(data.length));
  }

  /**
   * Append a member whose bytes `produce` streams into the consumer it is given. Afterwards
   * `nameOf(result, size)` names it; returning undefined drops the member again (a blob already
   * written under that name). Returns what `produce` returned.
   */
  async addStreamed<R>(
    produce: (consume: ChunkConsumer) => Promise<R>,
    nameOf: (result: R, size: number) => string | undefined,
  ): Promise<R> {
    const headerAt = this.position;
    this.position += BLOCK;
    const dataAt = this.position;
    let result: R;
    try {
      result = await produce(fileConsumer(this.path, dataAt, (chunk) => this.append(chunk)));
    } catch (err) {
      this.position = headerAt;
      throw err;
    }
    const size = this.position - dataAt;
    const name = nameOf(result, size);
    if (name === undefined) {
      this.position = headerAt;
      return result;
    }
    const header = buildHeader({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size });
    if (header.length !== BLOCK)
      throw new LayerflatError('UNSUPPORTED', `archive member name "${name}" does not fit one tar header`);
    await writeFully(this.fh, header, headerAt);
    await this.append(paddingFor(size));
    return result;
  }

  /** Write the end-of-archive marker, cut off anything a dropped member left, and close. Returns the size. */
  async finish(): Promise<number> {
    await this.append(END_OF_ARCHIVE);
    await this.fh.truncate(this.position);
    await this.fh.close();
    return this.position;
  }

  /** Close without finishing (the caller removes the file). */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
