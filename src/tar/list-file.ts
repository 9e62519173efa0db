/**
 * listTarFile: index a tar file by positioned reads of its header blocks only, seeking over the
 * data (the outer archive of `docker save` can be many GB). Same parsing as readTar: the same
 * HeaderMachine, another driver. Data of entry e lies at `e.offset + e.header.length`.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { asLayerflatError } from '../errors.js';
import type { TarEntry } from './entry.js';
import { HeaderMachine } from './machine.js';

const WINDOW = 32 * 1024;

/** Index a tar FILE: every entry with its raw header bytes, without reading entry data. */
export async function listTarFile(path: string, options: { where?: string } = {}): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  for await (const e of scanTarFile(path, { where: path, ...options })) entries.push(e);
  return entries;
}

/**
 * The entries of a tar stored in a file — the whole file, or `length` bytes from `start` (an
 * uncompressed layer inside a docker-archive) — one at a time, reading header blocks only.
 * Offsets are relative to `start`.
 */
export async function* scanTarFile(
  path: string,
  options: { where?: string; start?: number; length?: number } = {},
): AsyncGenerator<TarEntry> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw asLayerflatError(err, path);
  }
  try {
    const start = options.start ?? 0;
    const size = options.length ?? (await fh.stat()).size - start;
    yield* entriesOf(new WindowReader(fh, size, start), new HeaderMachine(options.where));
  } catch (err) {
    throw asLayerflatError(err, path);
  } finally {
    await fh.close();
  }
}

async function* entriesOf(reader: WindowReader, m: HeaderMachine): AsyncGenerator<TarEntry> {
  for (;;) {
    const bytes = await reader.read(m.pos, m.need);
    if (bytes.length < m.need) return m.atEof(bytes.length, bytes);
    const step = m.feed(bytes);
    if (step === 'more') continue;
    if (step === 'end') return;
    if (m.pos > reader.size) throw m.truncatedData(step, reader.size);
    yield step;
  }
}

/** Positioned reads through a small window, so runs of small entries cost few system calls. */
class WindowReader {
  private win = Buffer.alloc(0);
  private winStart = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly base = 0,
  ) {}

  /** `n` bytes at `pos`, copied; shorter only at the end of the file. */
  async read(pos: number, n: number): Promise<Buffer> {
    if (pos < this.winStart || pos + n > this.winStart + this.win.length) await this.load(pos, n);
    const from = pos - this.winStart;
    const to = Math.min(from + n, this.win.length);
    return Buffer.from(this.win.subarray(from, to));
  }

  private async load(pos: number, n: number): Promise<void> {
    const len = Math.max(0, Math.min(Math.max(n, WINDOW), this.size - pos));
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fh.read(buf, got, len - got, this.base + pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.win = buf.subarray(0, got);
    this.winStart = pos;
  }
}
