/** The tar module: read (stream or file index) with raw header bytes kept, and write. */
export { displayPath } from './entry.js';
export type { EntryType, PaxRecord, SparseInfo, TarEntry } from './entry.js';
export { readTar } from './reader.js';
export type { TarReadItem } from './reader.js';
export { listTarFile } from './list-file.js';
export { buildHeader, rewriteHeader, paddingFor, END_OF_ARCHIVE } from './writer.js';
export type { NewHeaderFields } from './writer.js';
export { parseHeader, checksumMatches, BLOCK_SIZE } from './header.js';
export type { ParsedHeader, HeaderFormat, SparseChunk } from './header.js';
export { parsePaxRecords, encodePaxRecords } from './pax.js';
export { normalizePath } from './path.js';
