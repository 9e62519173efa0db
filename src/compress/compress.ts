/**
 * Compressing a layer as it is written: 'none' passes bytes through, 'gzip' uses the parallel
 * gzip writer, 'zstd' runs the `zstd` program (Node 20 has no zstd of its own).
 */
import { PassThrough, type Duplex } from 'node:stream';
import { LayerflatError } from '../errors.js';
import type { Compression } from '../image/types.js';
import { ParallelGzip } from './parallel-gzip.js';
import { ProcessFilter } from './process-filter.js';
import { missingTool, requireExecutable } from './tools.js';

/** zstd's own default level, which is also ours. */
const DEFAULT_ZSTD_LEVEL = 3;

export interface CompressOptions {
  /** gzip: 0..9 (default DEFAULT_GZIP_LEVEL, 5); zstd: 1..22 (default 3; above 19 runs with --ultra). */
  level?: number;
  /** Threads to use: gzip blocks compressed at once, zstd -T (0 = one per core, the default). */
  threads?: number;
  /** gzip only: the block size (changes the output bytes; see ParallelGzip). */
  blockSize?: number;
}

/**
 * A Transform-like Duplex that compresses what is written to it. For 'zstd', throws
 * LayerflatError 'MISSING_TOOL' right away when no `zstd` is on PATH; a failing zstd run destroys
 * the stream with an 'IO' error carrying zstd's message.
 */
export function compressStream(c: Compression, options: CompressOptions = {}): Duplex {
  switch (c) {
    case 'none':
      return new PassThrough({ highWaterMark: 1 << 20 });
    case 'gzip':
      return new ParallelGzip({
        ...(options.level !== undefined ? { level: options.level } : {}),
        ...(options.threads ? { threads: options.threads } : {}), // 0 = default, as for zstd
        ...(options.blockSize !== undefined ? { blockSize: options.blockSize } : {}),
      });
    case 'zstd': {
      const level = options.level ?? DEFAULT_ZSTD_LEVEL;
      if (!Number.isInteger(level) || level < 1 || level > 22) {
        throw new RangeError(`zstd level must be an integer 1..22, not ${level}`);
      }
      const threads = options.threads ?? 0;
      if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`threads must be >= 0, not ${threads}`);
      const zstd = requireExecutable('zstd', 'write zstd-compressed layers');
      const args = ['-q', '-c', `-T${threads}`, ...(level > 19 ? ['--ultra'] : []), `-${level}`];
      return new ProcessFilter(zstd, args, {
        onFailure: (code, signal, stderr) =>
          new LayerflatError(
            'IO',
            `zstd compression failed, ${signal ? `killed by ${signal}` : `exit status ${code}`}` +
              ` (zstd: ${stderr.replace(/\s+/g, ' ').trim() || 'no message'})`,
          ),
        onSpawnError: (err) =>
          err.code === 'ENOENT' || err.code === 'EACCES'
            ? missingTool('zstd', 'write zstd-compressed layers', err)
            : new LayerflatError('IO', `cannot run zstd: ${err.message}`, { cause: err }),
      });
    }
  }
}
