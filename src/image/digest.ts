/**
 * Content digests: hashing blobs as they stream, and checking blobs against their descriptors.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LayerflatError } from '../errors.js';

const DIGEST_RE = /^(sha256|sha512):([a-f0-9]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** The lowercase hex sha256 of `data` (strings are hashed as UTF-8); see `sha256Digest` for "sha256:<hex>". */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** "sha256:<hex>" of `data`. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${sha256Hex(data)}`;
}

/**
 * Validate a digest string: "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>", as the
 * OCI image spec registers them. Throws LayerflatError 'BAD_MANIFEST' otherwise.
 */
export function parseDigest(d: string): { algorithm: string; hex: string } {
  const m = typeof d === 'string' ? DIGEST_RE.exec(d) : null;
  if (!m || m[2]!.length !== HEX_LENGTH[m[1]!]) {
    const shown = typeof d === 'string' ? JSON.stringify(d.length > 80 ? `${d.slice(0, 80)}…` : d) : String(d);
    throw new LayerflatError(
      'BAD_MANIFEST',
      `invalid digest ${shown}: expected "sha256:" and 64 lowercase hex digits (or "sha512:" and 128)`,
    );
  }
  return { algorithm: m[1]!, hex: m[2]! };
}

/**
 * A pass-through Transform that counts the bytes and hashes them (sha256 by default) as they
 * flow. `result()` resolves to { digest: 'sha256:<hex>', size } once the writable side has
 * ended, and rejects if the stream is destroyed before that.
 */
export class DigestStream extends Transform {
  readonly algorithm: string;
  private readonly hash: Hash;
  private size = 0;
  private readonly promise: Promise<{ digest: string; size: number }>;
  private resolve!: (r: { digest: string; size: number }) => void;
  private reject!: (err: Error) => void;
  private settled = false;

  constructor(algorithm: 'sha256' | 'sha512' = 'sha256') {
    super({ highWaterMark: 1 << 20 });
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.promise.catch(() => {}); // a caller that never asks must not get an unhandled rejection
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.size;
  }

  result(): Promise<{ digest: string; size: number }> {
    return this.promise;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.settled = true;
    this.resolve({ digest: `${this.algorithm}:${this.hash.digest('hex')}`, size: this.size });
    cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (!this.settled) {
      this.settled = true;
      this.reject(err ?? new LayerflatError('TRUNCATED', 'stream closed before it ended; no digest'));
    }
    cb(err);
  }
}

/**
 * A pass-through Transform that checks a blob against its descriptor: it fails with
 * LayerflatError 'SIZE_MISMATCH' as soon as more than `expected.size` bytes arrive, or at the
 * end when fewer did, and with 'DIGEST_MISMATCH' at the end when the bytes do not hash to
 * `expected.digest`. The error replaces the stream's 'end', so a reader never mistakes a bad
 * blob for a good one. Messages name `where`, the expected and the actual values. An invalid
 * `expected.digest` throws 'BAD_MANIFEST' right away.
 */
export function verifyingStream(expected: { digest: string; size?: number }, where: string): Transform {
  const { algorithm } = parseDigest(expected.digest);
  const hash = createHash(algorithm);
  let size = 0;
  const sizeError = (actual: string): LayerflatError =>
    new LayerflatError(
      'SIZE_MISMATCH',
      `${where}: size mismatch: expected ${expected.size} bytes, got ${actual} (descriptor ${expected.digest})`,
    );
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (expected.size !== undefined && size > expected.size) return cb(sizeError(`at least ${size}`));
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      if (expected.size !== undefined && size !== expected.size) return cb(sizeError(String(size)));
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (actual !== expected.digest) {
        return cb(
          new LayerflatError(
            'DIGEST_MISMATCH',
            `${where}: digest mismatch: expected ${expected.digest}, got ${actual} (${size} bytes)`,
          ),
        );
      }
      cb();
    },
  });
}
