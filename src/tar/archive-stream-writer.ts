/**
 * Writing an outer archive straight to a stream (stdout) when every member's size is known
 * before its bytes: no temporary file at all. The flat layer's exact size comes from a planning
 * pass over tar headers (merge/measureMerge); a copied layer's from its source.
 */
import type { Writable } from 'node:stream';
import { LayerflatError } from '../errors.js';
import { buildHeader, END_OF_ARCHIVE, paddingFor } from './writer.js';
import { coalesce, type ChunkConsumer } from '../bytes/consumer.js';

export class TarStreamWriter {
  private position = 0;

  constructor(private readonly out: Writable) {}

  private async write(buf: Buffer): Promise<void> {
    const { out } = this;
    if (out.errored || out.destroyed || out.writableEnded) throw out.errored ?? closed();
    this.position += buf.length;
    if (!out.write(buf)) await drained(out);
  }

  /** Append a regular file with the given content. */
  async addFile(name: string, data: Buffer): Promise<void> {
    await this.write(
      buildHeader({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: data.length }),
    );
    await this.write(data);
    await this.write(paddingFor(data.length));
  }

  /**
   * Append a member of exactly `size` bytes that `produce` streams into the consumer it is
   * given. A producer that delivers another size is a bug upstream: the archive is then broken,
   * so this throws rather than end it.
   *
   * The member's last piece goes out only once `produce` has resolved — its checks passed (the
   * flat layer's, a copied layer's on the hash thread). A producer that fails, even after its
   * last byte, so leaves the stream cut inside the member: no tar reader takes it as whole. (Sent
   * as it came, a member complete up to its own end-of-archive blocks would end the stream at a
   * member boundary, which GNU tar and others accept as a whole archive.)
   */
  async addSized<R>(name: string, size: number, produce: (consume: ChunkConsumer) => Promise<R>): Promise<R> {
    await this.write(buildHeader({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size }));
    let written = 0;
    let held: Buffer | undefined; // a stream consumer may keep chunks (they are not reused buffers)
    const result = await produce({
      write: async (chunks) => {
        for await (const chunk of coalesce(chunks)) {
          written += chunk.length;
          if (held) await this.write(held);
          held = chunk;
        }
      },
    });
    if (written !== size) {
      throw new LayerflatError(
        'IO',
        `archive member ${name}: planned ${size} bytes but ${written} were produced; ` +
          'the output on stdout is incomplete',
      );
    }
    if (held) await this.write(held);
    await this.write(paddingFor(size));
    return result;
  }

  /** Write the end-of-archive marker; returns the archive's size. */
  async finish(): Promise<number> {
    await this.write(END_OF_ARCHIVE);
    return this.position;
  }
}

function closed(): LayerflatError {
  return new LayerflatError('IO', 'the output stream was closed by its reader');
}

/** Until `out` can take more: 'drain'; rejects when it fails or closes instead (a reader that quit). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown) => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = () => done();
    const onError = (err: unknown) => done(err);
    const onClose = () => done(out.errored ?? closed());
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
