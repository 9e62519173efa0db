/**
 * Hashing and checking bytes as they stream: a pass-through that learns a digest, and one that
 * checks a blob against its descriptor. Messages say what is wrong, not where: the reader that
 * knows which blob of which image adds that (withContext).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LayerflatError } from '../errors.js';
import { Digest } from '../image/digest.js';

/**
 * A pass-through Transform that counts the bytes and hashes them (sha256) as they flow.
 * `result()` resolves to { digest, size } once the writable side has ended, and rejects if the
 * stream is destroyed before that.
 */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private readonly promise: Promise<{ digest: Digest; size: number }>;
  private resolve!: (r: { digest: Digest; size: number }) => void;
  private reject!: (err: Error) => void;
  private settled = false;

  constructor() {
    super({ highWaterMark: 1 << 20 });
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

  result(): Promise<{ digest: Digest; size: number }> {
    return this.promise;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.settled = true;
    this.resolve({ digest: Digest.sha256Hex(this.hash.digest('hex')), size: this.size });
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

/** What a blob must be: its digest and, when known, its size. */
export interface Expected {
  digest?: Digest;
  size?: number;
}

export function sizeMismatch(expected: Expected, actual: string): LayerflatError {
  const of = expected.digest ? ` (descriptor ${expected.digest})` : '';
  return new LayerflatError('SIZE_MISMATCH', `size mismatch: expected ${expected.size} bytes, got ${actual}${of}`);
}

export function digestMismatch(expected: Digest, actual: Digest, what = 'content'): LayerflatError {
  return new LayerflatError('DIGEST_MISMATCH', `${what} hashes to ${actual}, but ${expected} was expected`);
}

/**
 * Pass `chunks` through, checking them against `expected`: SIZE_MISMATCH as soon as more than
 * `expected.size` bytes arrive, or at the end when fewer did; DIGEST_MISMATCH at the end when the
 * bytes do not hash to `expected.digest`. The error replaces the end, so a reader never mistakes a
 * bad blob for a good one.
 */
export async function* verified(
  chunks: AsyncIterable<Buffer>,
  expected: Expected,
  what?: string,
): AsyncGenerator<Buffer> {
  const algorithm = expected.digest?.algorithm ?? 'sha256';
  const hash = expected.digest ? createHash(algorithm) : undefined;
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (expected.size !== undefined && size > expected.size) throw sizeMismatch(expected, `at least ${size}`);
    hash?.update(chunk);
    yield chunk;
  }
  if (expected.size !== undefined && size !== expected.size) throw sizeMismatch(expected, String(size));
  if (expected.digest && hash) {
    const actual = Digest.parse(`${algorithm}:${hash.digest('hex')}`);
    if (!actual.equals(expected.digest)) throw digestMismatch(expected.digest, actual, what);
  }
}

/** The same check on a whole buffer (a small document). */
export function checkBuffer(data: Buffer, expected: Expected, what?: string): void {
  if (expected.size !== undefined && data.length !== expected.size) throw sizeMismatch(expected, String(data.length));
  if (!expected.digest) return;
  const actual = Digest.parse(
    `${expected.digest.algorithm}:${createHash(expected.digest.algorithm).update(data).digest('hex')}`,
  );
  if (!actual.equals(expected.digest)) throw digestMismatch(expected.digest, actual, what);
}

/**
 * `verified` for a streamed blob whose reader may stop on a parse error: letting go of `chunks()`
 * does not close the source, so `rest()` can read what is left and tell whether the bytes were
 * the blob's. A download damaged on the way then reports the mismatch — the cause — instead of
 * the tar or gzip error it produced first. `close()` releases the source.
 */
export class HeldCheck {
  private readonly iterator: AsyncIterator<Buffer>;
  private readonly hash: Hash | undefined;
  private size = 0;
  /** The bytes are all checked, or the source itself failed: rest() has nothing to tell. */
  private settled = false;

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly expected: Expected,
    private readonly what?: string,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
    this.hash = expected.digest ? createHash(expected.digest.algorithm) : undefined;
  }

  /** The bytes, checked as they pass; the check fails the iteration at its end. */
  async *chunks(): AsyncGenerator<Buffer> {
    for (let r = await this.next(); !r.done; r = await this.next()) {
      this.add(r.value);
      yield r.value;
    }
    this.end();
  }

  /** Read what the reader left, then check the whole blob: throws its mismatch, if any. */
  async rest(): Promise<void> {
    if (this.settled) return;
    for (let r = await this.next(); !r.done; r = await this.next()) this.add(r.value);
    this.end();
  }

  close(): void {
    void this.iterator.return?.()?.catch(() => {});
  }

  private async next(): Promise<IteratorResult<Buffer>> {
    try {
      return await this.iterator.next();
    } catch (err) {
      this.settled = true; // a source that failed (the network): its error is the one to report
      throw err;
    }
  }

  private add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.expected.size !== undefined && this.size > this.expected.size) {
      throw sizeMismatch(this.expected, `at least ${this.size}`);
    }
    this.hash?.update(chunk);
  }

  private end(): void {
    this.settled = true;
    const { expected } = this;
    if (expected.size !== undefined && this.size !== expected.size) throw sizeMismatch(expected, String(this.size));
    if (expected.digest && this.hash) {
      const actual = Digest.parse(`${expected.digest.algorithm}:${this.hash.digest('hex')}`);
      if (!actual.equals(expected.digest)) throw digestMismatch(expected.digest, actual, this.what);
    }
  }
}
