/**
 * Byte ranges of files, and the one positioned-read helper everything that reads a file in place
 * uses (a positioned read may return fewer bytes than asked).
 */
import fs from 'node:fs';
import { asLayerflatError, LayerflatError } from '../errors.js';
import type { FileRange } from '../image/types.js';

/** The whole of `path` as a range; NOT_FOUND / IO naming it when it cannot be read. */
export async function wholeFile(path: string): Promise<FileRange> {
  try {
    return { path, start: 0, size: (await fs.promises.stat(path)).size };
  } catch (err) {
    throw asLayerflatError(err, path);
  }
}

/**
 * Fill `buf[offset, offset + length)` from `fh` at `position`; returns how many bytes were read,
 * fewer than `length` only at the end of the file.
 */
export async function readFully(
  fh: fs.promises.FileHandle,
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, offset + got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** Write `buf` completely at `position` (a positioned write may be short). */
export async function writeFully(fh: fs.promises.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/** Up to `n` first bytes of a range (fewer if it is shorter). */
export async function readHead(range: FileRange, n: number): Promise<Buffer> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(range.path, 'r');
  } catch (err) {
    throw asLayerflatError(err, range.path);
  }
  try {
    const head = Buffer.alloc(Math.min(n, range.size));
    const got = await readFully(fh, head, 0, head.length, range.start);
    return head.subarray(0, got);
  } catch (err) {
    throw asLayerflatError(err, range.path);
  } finally {
    await fh.close();
  }
}

/** Read size for streamed ranges (see rangeStream). */
const READ_CHUNK = 256 * 1024;

/**
 * The bytes of a range as a stream, read READ_CHUNK at a time: 256 KiB rather than the stream
 * default of 64 KiB, so a multi-GB layer is 4× fewer reads and chunks through the tar stages. Not
 * 1 MiB: a chunk stays alive while all its entries are merged, and a 1 MiB chunk of small files
 * outlived enough young-generation GCs to be promoted, where V8 frees it only every ~64 MB — a
 * 300k-file layer peaked at 73 MB of dead read buffers with 1 MiB reads, 8 MB with 256 KiB.
 * Errors name the file; a file shorter than the range is TRUNCATED.
 */
export async function* rangeChunks(range: FileRange): AsyncGenerator<Buffer> {
  if (range.size === 0) return;
  const stream = fs.createReadStream(range.path, {
    start: range.start,
    end: range.start + range.size - 1,
    highWaterMark: READ_CHUNK,
  });
  let got = 0;
  try {
    for await (const chunk of stream) {
      got += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  } catch (err) {
    throw asLayerflatError(err, range.path);
  } finally {
    stream.destroy();
  }
  if (got < range.size) throw truncated(range, got);
}

/** A range whose file ended early (changed or cut since it was indexed). */
export function truncated(range: FileRange, got: number): LayerflatError {
  const what = `the file ends ${got} bytes into a range of ${range.size} (from byte ${range.start})`;
  return new LayerflatError('TRUNCATED', `${range.path}: ${what}`, { located: true });
}
