/**
 * sha256 of bytes that lie in a file, computed on a helper thread that reads the file itself.
 *
 * Why: hashing is half of flatten's CPU time (a 4 GB input's diff_ids plus the flat layer's
 * digest), and on the main thread it makes layerflat CPU-bound on one core. Handing the chunks
 * to a worker costs a copy per chunk, which ate the gain (measured); letting the worker read the
 * same bytes back from the file — from the page cache, since the main thread has just read or
 * written them — costs only a kernel copy, on the worker's own core.
 *
 * Two kinds of job share one worker (hash-worker.ts), taking turns chunk by chunk:
 * - a fixed range (`fileRangeDigest`): a source layer stored in a file;
 * - a growing range (`GrowingFileDigest`): an output blob, hashed behind the writer as it lands.
 *
 * The worker keeps the process alive only while it has work.
 */
import { Worker } from 'node:worker_threads';
import { LayerflatError } from '../errors.js';
import { Digest } from '../image/digest.js';
import { hashWorkerMain } from './hash-worker.js';

/** A digest and the byte count it covers. */
export interface FileDigest {
  digest: Digest;
  size: number;
}

type Message =
  | { type: 'start'; id: number; path: string; start: number; end: number; final: boolean }
  | { type: 'advance'; id: number; end: number; final: boolean }
  | { type: 'cancel'; id: number };

type Reply = { id: number; digest?: string; error?: string };

const WORKER_SOURCE = `(${hashWorkerMain.toString()})(require);`;

interface Pending {
  path: string;
  resolve(digest: Digest): void;
  reject(err: Error): void;
}

class DigestThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  start(path: string, start: number, end: number, final: boolean): { id: number; result: Promise<Digest> } {
    const id = this.nextId++;
    const result = new Promise<Digest>((resolve, reject) => this.pending.set(id, { path, resolve, reject }));
    result.catch(() => {}); // an abandoned job must not become an unhandled rejection
    this.post({ type: 'start', id, path, start, end, final });
    return { id, result };
  }

  post(m: Message): void {
    const w = this.ensureWorker();
    if (this.pending.size > 0) w.ref();
    w.postMessage(m);
  }

  /** Stop job `id`; its result rejects. */
  cancel(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.post({ type: 'cancel', id });
    this.idleCheck();
    p.reject(new LayerflatError('IO', 'digest cancelled before the end of its bytes'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      this.idleCheck();
      if (!p) return;
      if (r.digest !== undefined) p.resolve(Digest.sha256Hex(r.digest));
      else p.reject(new LayerflatError('IO', `${p.path}: ${r.error ?? 'the digest thread failed'}`, { located: true }));
    });
    const lost = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const all = [...this.pending.values()];
      this.pending.clear();
      for (const p of all) p.reject(new LayerflatError('IO', `digest thread failed: ${err.message}`, { cause: err }));
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** No jobs left: let the process exit even though the worker lives. */
  private idleCheck(): void {
    if (this.pending.size === 0) this.worker?.unref();
  }
}

let thread: DigestThread | undefined;
const digestThread = () => (thread ??= new DigestThread());

/**
 * sha256 of bytes [start, start + length) of `path`, read and hashed off the main thread.
 * Rejects with LayerflatError 'IO' if the file cannot be read or is shorter, or once `signal`
 * aborts (which also stops the reading: a failed run does not wait for a digest it will not use).
 */
export function fileRangeDigest(path: string, start: number, length: number, signal?: AbortSignal): Promise<Digest> {
  const thread = digestThread();
  const job = thread.start(path, start, start + length, true);
  if (signal) {
    const stop = () => thread.cancel(job.id);
    if (signal.aborted) stop();
    else {
      signal.addEventListener('abort', stop, { once: true });
      void job.result.finally(() => signal.removeEventListener('abort', stop)).catch(() => {});
    }
  }
  return job.result;
}

/**
 * The sha256 of bytes being appended to a file from `start` on: tell it how many have landed
 * (`advance`) as the writer goes, and `finish` with the total. Only bytes already written may
 * be announced; the worker reads them back as they come.
 */
export class GrowingFileDigest {
  private readonly job: { id: number; result: Promise<Digest> };
  private size = 0;
  private done = false;

  constructor(
    path: string,
    private readonly start: number,
  ) {
    this.job = digestThread().start(path, start, start, false);
  }

  /** `bytes` bytes from `start` on are now in the file. */
  advance(bytes: number): void {
    if (this.done || bytes <= this.size) return;
    this.size = bytes;
    digestThread().post({ type: 'advance', id: this.job.id, end: this.start + bytes, final: false });
  }

  /** All `bytes` bytes are written: their digest. */
  async finish(bytes: number): Promise<FileDigest> {
    this.size = bytes;
    this.done = true;
    digestThread().post({ type: 'advance', id: this.job.id, end: this.start + bytes, final: true });
    return { digest: await this.job.result, size: bytes };
  }

  /** Stop hashing (the write failed). */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    digestThread().cancel(this.job.id);
  }
}
