/**
 * Writing an outer archive (docker-archive, oci-archive) sequentially into a file. A member
 * whose size and name are unknown until its bytes have streamed — a new layer, named by its
 * digest — gets a 512-byte header slot reserved, its bytes written after it, and the real header
 * written back into the slot with a positioned write. Members are named to fit one header block
 * ("blobs/sha256/<64 hex>" is 77 bytes), so the slot never needs to grow.
 */
import fs from 'node:fs';
import { fileConsumer, type ChunkConsumer } from '../bytes/consumer.js';
import { writeFully } from '../bytes/file-range.js';
import { asLayerflatError, LayerflatError } from '../errors.js';
import { END_OF_ARCHIVE, buildHeader, paddingFor } from './writer.js';

const BLOCK = 512;

/** An archive being written to a file; members are appended in call order. */
export class TarFileWriter {
  private position = 0;

  private constructor(
    private readonly fh: fs.promises.FileHandle,
    private readonly path: string,
  ) {}

  /**
   * Open (create, private to its owner, or truncate) `file` for writing an archive — never
   * through a symbolic link at `file`: outputs are staged files whose name someone could replace.
   */
  static async create(file: string): Promise<TarFileWriter> {
    const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
    const fh = await fs.promises
      .open(file, O_WRONLY | O_CREAT | O_TRUNC | (O_NOFOLLOW ?? 0), 0o600)
      .catch((err: unknown) => {
        throw asLayerflatError(err, `writing ${file}`);
      });
    return new TarFileWriter(fh, file);
  }

  /**
   * Write an archive into `file`: `fill` adds the members, then the end-of-archive marker goes
   * on. Returns what `fill` returned and the archive's size; on failure the file is left for
   * the caller (who staged it) to remove.
   */
  static async write<T>(
    file: string,
    fill: (writer: TarFileWriter) => Promise<T>,
  ): Promise<{ result: T; size: number }> {
    const writer = await TarFileWriter.create(file);
    try {
      const result = await fill(writer);
      return { result, size: await writer.finish() };
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  private async append(buf: Buffer): Promise<void> {
    await writeFully(this.fh, buf, this.position).catch((err: unknown) => {
      throw asLayerflatError(err, `writing ${this.path}`);
    });
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
    await writeFully(this.fh, header, headerAt).catch((err: unknown) => {
      throw asLayerflatError(err, `writing ${this.path}`);
    });
    await this.append(paddingFor(size));
    return result;
  }

  /** Write the end-of-archive marker, cut off anything a dropped member left, and close. Returns the size. */
  async finish(): Promise<number> {
    await this.append(END_OF_ARCHIVE);
    try {
      await this.fh.truncate(this.position);
      await this.fh.close(); // a close can report a failed write (NFS, a full disk)
    } catch (err) {
      throw asLayerflatError(err, `writing ${this.path}`);
    }
    return this.position;
  }

  /** Close without finishing (the caller removes the file). */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
