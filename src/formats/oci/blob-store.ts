/**
 * Content-addressed blobs of an OCI layout ("blobs/<alg>/<hex>") over a FileTree, found by the
 * descriptor that names them. Small documents are read whole and checked here; layer blobs are
 * handed out as sources for layers/read.ts, which checks them as it reads them.
 */
import { checkBuffer, sizeMismatch } from '../../bytes/verify.js';
import { LayerflatError, withContext } from '../../errors.js';
import { parseJSONBytes } from '../../image/manifest.js';
import type { BlobSource, Descriptor } from '../../image/types.js';
import type { FileTree } from '../file-tree.js';

/** Blob access for one layout. */
export class BlobStore {
  constructor(readonly tree: FileTree) {}

  /** Whether the blob a descriptor names is present. */
  has(d: Descriptor): boolean {
    return this.tree.has(d.digest.blobPath);
  }

  private must(d: Descriptor, what: string): string {
    const name = d.digest.blobPath;
    if (!this.tree.has(name)) {
      throw new LayerflatError('NOT_FOUND', `${this.tree.where}: ${what} blob ${d.digest} is missing (${name})`, {
        located: true,
      });
    }
    return name;
  }

  /** Read a small blob whole, checking its size and digest against `d`. */
  async read(d: Descriptor, what: string): Promise<Buffer> {
    const name = this.must(d, what);
    const where = `${this.tree.where}: ${what} ${d.digest}`;
    try {
      const size = this.tree.size(name);
      if (size !== d.size) throw sizeMismatch(d, `a blob of ${size} bytes`); // before reading it
      const data = await this.tree.read(name);
      checkBuffer(data, d);
      return data;
    } catch (err) {
      throw withContext(err, where);
    }
  }

  /** Read and parse a JSON blob, checked; BAD_MANIFEST naming it if it is not JSON. */
  async readJSON(d: Descriptor, what: string): Promise<unknown> {
    return parseJSONBytes(await this.read(d, what), `${this.tree.where}: ${what} ${d.digest}`);
  }

  /** Where a layer blob's bytes lie (checked by whoever reads them, against `d`). */
  source(d: Descriptor, what: string): BlobSource {
    if (d.digest.algorithm !== 'sha256') {
      throw new LayerflatError(
        'UNSUPPORTED',
        `${this.tree.where}: ${what} ${d.digest}: only sha256 layer digests are supported`,
        {
          located: true,
        },
      );
    }
    return { file: this.tree.locate(this.must(d, what)) };
  }
}
