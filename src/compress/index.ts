export { detectCompression, layerMediaType, compressionOfMediaType, MAGIC_LENGTH } from './detect.js';
export { decompress } from './decompress.js';
export { compressStream, DEFAULT_ZSTD_LEVEL, type CompressOptions } from './compress.js';
export {
  ParallelGzip,
  createParallelGzip,
  defaultGzipThreads,
  MAX_DEFAULT_THREADS,
  DEFAULT_GZIP_LEVEL,
  DEFAULT_BLOCK_SIZE,
  type ParallelGzipOptions,
} from './parallel-gzip.js';
export { ProcessFilter, type ProcessFilterOptions } from './process-filter.js';
export { findExecutable, requireExecutable, missingTool } from './tools.js';
export { crc32 } from './crc32.js';
