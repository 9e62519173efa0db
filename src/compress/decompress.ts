/**
 * Open a layer blob's bytes as an uncompressed stream, whatever it was stored as. The compression
 * is detected from the first bytes (not from the media type, which a docker-archive lacks and a
 * registry may get wrong). gzip is decoded by node:zlib (concatenated members included, as pigz
 * and some `docker save` versions write them); zstd by the `zstd` program, since Node 20 has no
 * zstd of its own.
 */
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { asLayerflatError, LayerflatError, type ErrorCode } from '../errors.js';
import type { Compression } from '../image/types.js';
import { detectCompression, MAGIC_LENGTH } from './detect.js';
import { ProcessFilter } from './process-filter.js';
import { findExecutable, missingTool } from './tools.js';

const OUT_HIGH_WATER_MARK = 256 * 1024;

/**
 * Peek the first bytes of `input`, detect the compression by magic bytes, and return the
 * decompressed byte stream plus what was detected. The returned stream owns `input`: destroying
 * it (a consumer that stops early) destroys `input` and stops any decoder process. Decoder
 * failures surface as LayerflatError 'TRUNCATED' (the data ends early) or 'IO' (corrupt data, or
 * the decoder failed otherwise), naming `where`; errors of `input` itself are passed on (wrapped
 * with asLayerflatError unless they already are LayerflatErrors). A zstd blob when no `zstd`
 * program is on PATH rejects with 'MISSING_TOOL'.
 */
export async function decompress(
  input: Readable,
  where?: string,
): Promise<{ stream: Readable; compression: Compression }> {
  const { head, source } = await peek(input, MAGIC_LENGTH, where);
  const compression = detectCompression(head);
  switch (compression) {
    case 'none':
      return { stream: source, compression };
    case 'gzip': {
      const gunzip = createGunzip({ chunkSize: 256 * 1024 }); // fewer threadpool round trips than 16 KiB
      return { stream: wire(source, gunzip, where, (err) => gzipError(err, where)), compression };
    }
    case 'zstd': {
      const zstd = findExecutable('zstd');
      if (zstd === undefined) {
        source.destroy();
        throw missingTool('zstd', `decompress the zstd-compressed ${where ?? 'layer'}`);
      }
      const filter = new ProcessFilter(zstd, ['-d', '-c', '-q'], {
        onFailure: (code, signal, stderr) => zstdError(code, signal, stderr, where),
        onSpawnError: (err) =>
          err.code === 'ENOENT' || err.code === 'EACCES'
            ? missingTool('zstd', `decompress the zstd-compressed ${where ?? 'layer'}`, err)
            : problem('IO', where, `cannot run zstd: ${err.message}`, err),
      });
      return { stream: wire(source, filter, where), compression };
    }
  }
}

/**
 * Read until `n` bytes are buffered (or the stream ends), then put them back. Returns those bytes
 * and the stream to read from: `input` itself, or — if it ended within the peek — a fresh stream
 * over what it held (unshift after 'end' is not allowed).
 */
async function peek(
  input: Readable,
  n: number,
  where: string | undefined,
): Promise<{ head: Buffer; source: Readable }> {
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  try {
    while (length < n) {
      if (input.errored) throw input.errored;
      const chunk = input.read() as Buffer | string | null;
      if (chunk !== null) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        chunks.push(buf);
        length += buf.length;
        continue;
      }
      if (input.readableEnded) {
        ended = true;
        break;
      }
      if (input.destroyed) throw problem('TRUNCATED', where, 'stream closed before any data');
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error): void => {
          input.off('readable', onReadable);
          input.off('end', onEnd);
          input.off('error', done);
          input.off('close', onClose);
          if (err) reject(err);
          else resolve();
        };
        const onReadable = (): void => done();
        const onEnd = (): void => done();
        const onClose = (): void => done();
        input.on('readable', onReadable);
        input.on('end', onEnd);
        input.on('error', done);
        input.on('close', onClose);
      });
    }
  } catch (err) {
    input.destroy();
    throw asLayerflatError(err, where);
  }
  const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  if (ended) return { head, source: Readable.from(head.length > 0 ? [head] : [], { objectMode: false }) };
  if (head.length > 0) input.unshift(head);
  return { head, source: input };
}

/**
 * Pipe `source` into `decoder` and return the stream the consumer reads: `decoder` itself when
 * it already reports LayerflatErrors, else a PassThrough behind it that carries the mapped
 * errors. Either side failing, or the consumer destroying what it reads, tears down all of it.
 */
function wire(
  source: Readable,
  decoder: Duplex,
  where: string | undefined,
  mapDecoderError?: (err: Error) => Error,
): Readable {
  const out: Readable = mapDecoderError ? new PassThrough({ highWaterMark: OUT_HIGH_WATER_MARK }) : decoder;
  let failed = false;
  const fail = (err: Error): void => {
    if (failed) return;
    failed = true;
    source.unpipe(decoder);
    source.destroy();
    if (out !== decoder) decoder.destroy();
    out.destroy(err);
  };
  source.on('error', (err) => fail(asLayerflatError(err, where)));
  if (mapDecoderError) {
    decoder.on('error', (err) => fail(mapDecoderError(err)));
    decoder.pipe(out as PassThrough);
  }
  out.on('close', () => {
    if (!out.readableEnded) {
      source.destroy();
      decoder.destroy();
    }
  });
  source.pipe(decoder);
  return out;
}

/** An error naming `where` when it is known (then it is located), else left for the caller's context. */
function problem(code: ErrorCode, where: string | undefined, what: string, cause?: unknown): LayerflatError {
  const message = where === undefined ? what : `${where}: ${what}`;
  return new LayerflatError(code, message, { cause, located: where !== undefined });
}

function gzipError(err: Error, where: string | undefined): LayerflatError {
  if (err instanceof LayerflatError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message)) {
    return problem('TRUNCATED', where, `gzip data ends early (${err.message})`, err);
  }
  return problem('BAD_TAR', where, `corrupt gzip data (${err.message})`, err);
}

function zstdError(
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  where: string | undefined,
): LayerflatError {
  const status = signal ? `killed by ${signal}` : `exit status ${code}`;
  const detail = stderr.replace(/\s+/g, ' ').trim() || 'no message';
  if (/premature end|truncated|unexpected end/i.test(stderr)) {
    return problem('TRUNCATED', where, `zstd data ends early (zstd: ${detail})`);
  }
  // A signal is the program's fate, not the data's; an exit status with a message is zstd refusing the data.
  const errCode = signal ? 'IO' : 'BAD_TAR';
  return problem(errCode, where, `zstd could not decompress the data, ${status} (zstd: ${detail})`);
}
