/**
 * Content-addressed blobs of an OCI layout ("blobs/<alg>/<hex>") over a FileTree, read with the
 * descriptor that names them: small documents are verified on reading, layer streams as they
 * flow, so a flipped byte or a truncated blob is caught before anything is written from it.
 */
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import { LayerflatError } from '../../errors.js';
import { verifyingStream } from '../../image/digest.js';
import { parseJSONBytes } from '../../image/manifest.js';
import type { Descriptor } from '../../image/types.js';
import type { FileTree } from '../file-tree.js';

/** The "blobs/sha256/<hex>" name of a digest; UNSUPPORTED for other algorithms. */
export function blobName(digest: string, where: string): string {
  const m = /^([a-z0-9+._-]+):([a-zA-Z0-9=_-]+)$/.exec(digest);
  if (!m) throw new LayerflatError('BAD_MANIFEST', `${where}: invalid digest "${digest}"`);
  if (m[1] !== 'sha256')
    throw new LayerflatError('UNSUPPORTED', `${where}: digest algorithm "${m[1]}" is not supported (only sha256)`);
  if (!/^[a-f0-9]{64}$/.test(m[2]!))
    throw new LayerflatError('BAD_MANIFEST', `${where}: invalid sha256 digest "${digest}"`);
  return `blobs/sha256/${m[2]}`;
}

/** `src` piped through verifyingStream, with read errors of `src` passed on (pipe() drops them). */
export function pipeVerified(src: Readable, expected: { digest: string; size?: number }, where: string): Readable {
  const check = verifyingStream(expected, where);
  src.on('error', (err) => check.destroy(err));
  check.on('close', () => src.destroy());
  return src.pipe(check);
}

/** Blob access for one layout. */
export class BlobStore {
  constructor(readonly tree: FileTree) {}

  /** Whether the blob a descriptor names is present. */
  has(d: Descriptor): boolean {
    return this.tree.has(blobName(d.digest, this.tree.where));
  }

  private must(d: Descriptor, what: string): string {
    const name = blobName(d.digest, this.tree.where);
    if (!this.tree.has(name))
      throw new LayerflatError('NOT_FOUND', `${this.tree.where}: ${what} blob ${d.digest} is missing (${name})`);
    return name;
  }

  /** Read a small blob whole, checking its size and digest against `d`. */
  async read(d: Descriptor, what: string): Promise<Buffer> {
    const name = this.must(d, what);
    const data = await this.tree.read(name);
    const where = `${this.tree.where}: ${what} ${d.digest}`;
    if (data.length !== d.size)
      throw new LayerflatError('SIZE_MISMATCH', `${where}: ${data.length} bytes, descriptor says ${d.size}`);
    const actual = `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
    if (actual !== d.digest) throw new LayerflatError('DIGEST_MISMATCH', `${where}: content hashes to ${actual}`);
    return data;
  }

  /** Read and parse a JSON blob, verified; BAD_MANIFEST naming it if it is not JSON. */
  async readJSON(d: Descriptor, what: string): Promise<unknown> {
    return parseJSONBytes(await this.read(d, what), `${this.tree.where}: ${what} ${d.digest}`);
  }

  /** Stream a blob, failing at its end with DIGEST_MISMATCH / SIZE_MISMATCH if it is not `d`. */
  open(d: Descriptor, what: string): Readable {
    const name = this.must(d, what);
    return pipeVerified(
      this.tree.open(name),
      { digest: d.digest, size: d.size },
      `${this.tree.where}: ${what} ${d.digest}`,
    );
  }
}
