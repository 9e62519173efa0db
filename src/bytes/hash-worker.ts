/**
 * The hash thread's program (see file-digest.ts). It runs in a worker as the text of this
 * function, so it uses nothing from outside it: it loads what it needs with the worker's own
 * `require`, passed in as `load` (the bundler rewrites calls of a free `require` into a helper
 * the worker does not have). Jobs take turns, one read of up to 1 MiB each, so a small blob's
 * digest never waits behind a big one.
 *
 * Messages in: start {id, path, start, end, final}, advance {id, end, final}, cancel {id}.
 * Messages out: {id, digest: hex} or {id, error}.
 */
export function hashWorkerMain(load: (id: string) => unknown): void {
  const { parentPort } = load('node:worker_threads') as typeof import('node:worker_threads');
  const fs = load('node:fs') as typeof import('node:fs');
  const crypto = load('node:crypto') as typeof import('node:crypto');
  interface Job {
    fd: number;
    pos: number;
    end: number;
    final: boolean;
    hash: import('node:crypto').Hash;
  }
  const CHUNK = 1 << 20;
  const buf = Buffer.allocUnsafeSlow(CHUNK);
  const jobs = new Map<number, Job>();
  let turn = 0;
  let scheduled = false;
  const port = parentPort!;
  const close = (id: number, job: Job): void => {
    jobs.delete(id);
    try {
      fs.closeSync(job.fd);
    } catch {
      // already closed
    }
  };
  const fail = (id: number, job: Job, message: string): void => {
    close(id, job);
    port.postMessage({ id, error: message });
  };
  const step = (): void => {
    scheduled = false;
    const ready = [...jobs].filter(([, j]) => j.pos < j.end || j.final);
    if (ready.length === 0) return;
    const [id, job] = ready[turn++ % ready.length]!;
    try {
      if (job.pos < job.end) {
        const n = fs.readSync(job.fd, buf, 0, Math.min(CHUNK, job.end - job.pos), job.pos);
        if (n === 0) return fail(id, job, `the file ends at byte ${job.pos}, before byte ${job.end}`);
        job.hash.update(buf.subarray(0, n));
        job.pos += n;
      }
      if (job.final && job.pos === job.end) {
        close(id, job);
        port.postMessage({ id, digest: job.hash.digest('hex') });
      }
    } catch (err) {
      fail(id, job, String((err as Error)?.message ?? err));
    }
    schedule();
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(step);
  };
  port.on('message', (m: { type: string; id: number; path: string; start: number; end: number; final: boolean }) => {
    if (m.type === 'start') {
      try {
        const fd = fs.openSync(m.path, 'r');
        jobs.set(m.id, { fd, pos: m.start, end: m.end, final: m.final, hash: crypto.createHash('sha256') });
      } catch (err) {
        port.postMessage({ id: m.id, error: String((err as Error)?.message ?? err) });
      }
    } else {
      const job = jobs.get(m.id);
      if (!job) return;
      if (m.type === 'cancel') close(m.id, job);
      else {
        job.end = m.end;
        job.final = m.final;
      }
    }
    schedule();
  });
}
