/**
 * A small pool of worker threads that compress blocks as raw deflate (for ParallelGzip).
 *
 * Why workers and not node:zlib's async API (the libuv threadpool): a zlib stream needs the main
 * thread between its passes, so under load every block waits for the event loop before the next
 * can start; and the threadpool (4 threads unless UV_THREADPOOL_SIZE says otherwise) is shared
 * with file reads, writes and gunzips, which compression would starve. Each worker here holds
 * up to two jobs — the one it runs and the next — so it goes from block to block without
 * waiting for the main thread, which is how pigz keeps its threads busy.
 *
 * The pool is shared by all ParallelGzip streams of the process, grows to the largest thread
 * count asked for, keeps the process alive only while it has work, and ends its workers after a
 * few idle seconds.
 */
import { Worker } from 'node:worker_threads';
import { LayerflatError } from '../errors.js';

export interface DeflateJob {
  /** How many workers the submitter would like working for it (the pool grows to the largest). */
  readonly threads: number;
  readonly level: number;
  readonly last: boolean; // finish the deflate stream (else end with a sync flush)
  readonly data: Buffer;
  readonly dictionary: Buffer | undefined; // up to 32 KiB of the input just before `data`
  /** Set by the owner when it no longer wants the result; queued jobs are then dropped. */
  cancelled: boolean;
  done(err: Error | null, out?: Buffer): void;
}

// CommonJS, evaluated in each worker. Input arrives as one transferred ArrayBuffer holding the
// dictionary then the data; the output goes back the same way.
const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
parentPort.on('message', (m) => {
  try {
    const all = Buffer.from(m.buf);
    const data = all.subarray(m.dictLen);
    const options = {
      level: m.level,
      chunkSize: Math.max(16 * 1024, data.length + (data.length >>> 8) + 1024),
      finishFlush: m.last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
    };
    if (m.dictLen > 0) options.dictionary = all.subarray(0, m.dictLen);
    const out = zlib.deflateRawSync(data, options);
    const ab = new ArrayBuffer(out.length);
    new Uint8Array(ab).set(out);
    parentPort.postMessage({ id: m.id, buf: ab }, [ab]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.stack) || err) });
  }
});
`;

/** Jobs a worker holds at once: the one it compresses and the one it starts next. */
const PER_WORKER = 2;
const IDLE_MS = 5000;

interface Slot {
  worker: Worker;
  jobs: Map<number, DeflateJob>;
  dead: boolean;
}

class DeflatePool {
  private slots: Slot[] = [];
  private readonly queue: DeflateJob[] = [];
  private wanted = 0;
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  submit(job: DeflateJob): void {
    this.wanted = Math.max(this.wanted, job.threads);
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const job = this.queue[0]!;
      if (job.cancelled) {
        this.queue.shift();
        continue;
      }
      const slot = this.pickSlot();
      if (!slot) break;
      this.queue.shift();
      this.send(slot, job);
    }
    this.checkIdle();
  }

  /** The least busy worker with room, starting another if the least busy one is working. */
  private pickSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.jobs.size < best.jobs.size) best = s;
    if ((!best || best.jobs.size > 0) && this.slots.length < this.wanted) return this.startWorker();
    return best && best.jobs.size < PER_WORKER ? best : undefined;
  }

  private startWorker(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const slot: Slot = { worker, jobs: new Map(), dead: false };
    worker.on('message', (m: { id: number; buf?: ArrayBuffer; error?: string }) => this.onMessage(slot, m));
    worker.on('error', (err) => this.onFailure(slot, err));
    worker.on('exit', (code) => {
      if (!slot.dead) this.onFailure(slot, new Error(`compression worker exited with code ${code}`));
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private send(slot: Slot, job: DeflateJob): void {
    const id = this.nextId++;
    const dictLen = job.dictionary?.length ?? 0;
    const buf = new ArrayBuffer(dictLen + job.data.length);
    const view = new Uint8Array(buf);
    if (job.dictionary) view.set(job.dictionary, 0);
    view.set(job.data, dictLen);
    slot.jobs.set(id, job);
    if (slot.jobs.size === 1) slot.worker.ref(); // work outstanding: keep the process alive
    slot.worker.postMessage({ id, buf, dictLen, level: job.level, last: job.last }, [buf]);
  }

  private onMessage(slot: Slot, m: { id: number; buf?: ArrayBuffer; error?: string }): void {
    const job = slot.jobs.get(m.id);
    slot.jobs.delete(m.id);
    if (slot.jobs.size === 0) slot.worker.unref();
    this.pump();
    if (!job || job.cancelled) return;
    if (m.error !== undefined || !m.buf) {
      job.done(new LayerflatError('IO', `gzip compression failed: ${m.error ?? 'no output'}`));
    } else {
      job.done(null, Buffer.from(m.buf));
    }
  }

  private onFailure(slot: Slot, err: Error): void {
    if (slot.dead) return;
    slot.dead = true;
    this.slots = this.slots.filter((s) => s !== slot);
    void slot.worker.terminate();
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    for (const job of jobs) {
      if (!job.cancelled) job.done(new LayerflatError('IO', `gzip compression worker failed: ${err.message}`, { cause: err }));
    }
    this.pump();
  }

  /** With nothing to do, end the workers after a while (they do not keep the process alive). */
  private checkIdle(): void {
    const busy = this.queue.length > 0 || this.slots.some((s) => s.jobs.size > 0);
    if (busy) {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      return;
    }
    if (this.idleTimer || this.slots.length === 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.queue.length > 0 || this.slots.some((s) => s.jobs.size > 0)) return;
      const slots = this.slots;
      this.slots = [];
      this.wanted = 0;
      for (const s of slots) {
        s.dead = true;
        void s.worker.terminate();
      }
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  /** Workers running now (for tests). */
  get workerCount(): number {
    return this.slots.length;
  }
}

let pool: DeflatePool | undefined;

/** The process-wide deflate pool. */
export function deflatePool(): DeflatePool {
  pool ??= new DeflatePool();
  return pool;
}

export type { DeflatePool };
