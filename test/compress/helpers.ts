import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, type Duplex } from 'node:stream';

/** Whether a program is on PATH. */
export function has(program: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
  if (!found) console.log(`skipped: the tests that need ${program} (it is not installed)`);
  return found;
}

/** Run a program with `input` on stdin; returns stdout, throws on a non-zero exit. */
export function run(program: string, args: string[], input: Buffer): Buffer {
  const r = spawnSync(program, args, { input, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')}: exit ${r.status}: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Run a program; returns its status and stderr (no throw). */
export function tryRun(program: string, args: string[], input: Buffer): { status: number | null; stderr: string } {
  const r = spawnSync(program, args, { input, maxBuffer: 1 << 30 });
  return { status: r.status, stderr: r.stderr?.toString() ?? '' };
}

/** Somewhat compressible, tar-like test data: text lines, repeated runs and random stretches. */
export function mixedData(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  const rnd = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const words = ['usr', 'lib', 'bin', 'share', 'layerflat', 'gzip', 'zstd', 'config', 'json', 'tar', '\n', ' ', '/'];
  let o = 0;
  while (o < size) {
    const kind = rnd() % 4;
    if (kind === 0) {
      const n = Math.min(size - o, 1 + (rnd() % 4096));
      randomBytes(n).copy(out, o);
      o += n;
    } else if (kind === 1) {
      const n = Math.min(size - o, 1 + (rnd() % 2048));
      out.fill(rnd() & 0xff, o, o + n);
      o += n;
    } else {
      for (let k = 0; k < 200 && o < size; k++) {
        const w = words[rnd() % words.length]!;
        o += out.write(w, o, Math.min(w.length, size - o), 'latin1');
      }
    }
  }
  return out;
}

/** A readable that hands out `data` in chunks of varying size, counting what was pulled. */
export function chunkedSource(data: Buffer, chunk = 64 * 1024): Readable & { pulled: number } {
  let offset = 0;
  let i = 0;
  const r = new Readable({
    highWaterMark: chunk,
    read() {
      if (offset >= data.length) {
        this.push(null);
        return;
      }
      const n = Math.max(1, Math.min(data.length - offset, chunk - ((i++ * 7919) % (chunk / 2))));
      const piece = data.subarray(offset, offset + n);
      offset += n;
      (r as Readable & { pulled: number }).pulled = offset;
      this.push(piece);
    },
  }) as Readable & { pulled: number };
  r.pulled = 0;
  return r;
}

/** Collect a stream into one buffer. */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Write `data` into a Transform/Duplex in pieces and collect its output. */
export async function through(t: Duplex, data: Buffer, piece = 100_000): Promise<Buffer> {
  const done = collect(t);
  for (let o = 0; o < data.length; o += piece) {
    if (!t.write(data.subarray(o, o + piece))) await new Promise((r) => t.once('drain', r));
  }
  t.end();
  return done;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
