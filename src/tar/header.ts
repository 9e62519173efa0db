/**
 * Parse one 512-byte tar header block: ustar (POSIX and star), GNU and v7, with octal or base-256
 * numbers, checksum verification (unsigned and signed sums accepted), and the old GNU sparse map.
 */
import { TarProblem } from './fail.js';
import { parseNumeric, parseString } from './numeric.js';

export const BLOCK_SIZE = 512;

/** Zero bytes to the next 512-byte boundary after `n` bytes. */
export function padLength(n: number): number {
  return (BLOCK_SIZE - (n % BLOCK_SIZE)) % BLOCK_SIZE;
}

/** Which header layout the magic field announces. */
export type HeaderFormat = 'ustar' | 'star' | 'gnu' | 'v7';

/** One stored region of a sparse file: `length` bytes of data at `offset` in the real file. */
export interface SparseChunk {
  offset: number;
  length: number;
}

export interface ParsedHeader {
  /** Name field, joined with the ustar prefix ("prefix/name") when one is present; binary string. */
  name: string;
  /** The ustar (or star) prefix field alone; "" for other formats. */
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  checksum: number;
  typeflag: string;
  linkname: string;
  /** The raw 8 bytes of magic + version as a binary string ("ustar\0" + "00", "ustar  \0", ...). */
  magic: string;
  format: HeaderFormat;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Old GNU sparse ('S') header: map in the header, whether extension blocks follow, real size. */
  gnuSparse?: { map: SparseChunk[]; isExtended: boolean; realSize: number };
}

const SPACES_SUM = 8 * 0x20;

/** Unsigned sum of the block with the checksum field taken as spaces (what writers store). */
export function checksumOf(block: Buffer): number {
  let u = SPACES_SUM;
  for (let i = 0; i < 148; i++) u += block[i]!;
  for (let i = 156; i < BLOCK_SIZE; i++) u += block[i]!;
  return u;
}

/** The same sum with bytes taken as signed (some old tars wrote that). */
function signedChecksumOf(block: Buffer): number {
  let s = SPACES_SUM;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    if (i === 148) i = 156;
    const c = block[i]!;
    s += c > 127 ? c - 256 : c;
  }
  return s;
}

/** True when the 512 bytes at `start` are all zero (an end-of-archive block). */
export function isZeroBlock(block: Buffer, start = 0): boolean {
  for (let i = start; i < start + BLOCK_SIZE; i++) if (block[i] !== 0) return false;
  return true;
}

/** Does the block's stored checksum match (unsigned or signed sum)? False also when the field is not a number. */
export function checksumMatches(block: Buffer): boolean {
  const stored = parseNumeric(block, 148, 8);
  if (Number.isNaN(stored)) return false;
  return stored === checksumOf(block) || stored === signedChecksumOf(block);
}

export function headerFormat(block: Buffer): HeaderFormat {
  const magic = block.toString('latin1', 257, 265);
  if (magic === 'ustar  \0') return 'gnu';
  if (magic.startsWith('ustar\0')) return block.toString('latin1', 508, 512) === 'tar\0' ? 'star' : 'ustar';
  return 'v7';
}

function num(block: Buffer, start: number, len: number, field: string, signed = false): number {
  const v = parseNumeric(block, start, len);
  if (Number.isNaN(v) || (!signed && v < 0)) {
    const raw = JSON.stringify(block.toString('latin1', start, start + len));
    throw new TarProblem('BAD_TAR', `bad ${field} field ${raw} in tar header`);
  }
  return v;
}

/**
 * Parse a header block whose checksum the caller has verified. Returns null for a zero block.
 * Throws TarProblem (BAD_TAR) for a malformed numeric field.
 */
export function parseHeader(block: Buffer): ParsedHeader | null {
  if (isZeroBlock(block)) return null;
  const format = headerFormat(block);
  const hasUstar = format !== 'v7';
  const prefix =
    format === 'ustar' ? parseString(block, 345, 155) : format === 'star' ? parseString(block, 345, 131) : '';
  const name = parseString(block, 0, 100);
  const typeflag = String.fromCharCode(block[156]!);
  const h: ParsedHeader = {
    name: prefix ? `${prefix}/${name}` : name,
    prefix,
    mode: num(block, 100, 8, 'mode') & 0o7777,
    uid: num(block, 108, 8, 'uid'),
    gid: num(block, 116, 8, 'gid'),
    size: num(block, 124, 12, 'size'),
    mtime: num(block, 136, 12, 'mtime', true),
    checksum: num(block, 148, 8, 'checksum'),
    typeflag,
    linkname: parseString(block, 157, 100),
    magic: block.toString('latin1', 257, 265),
    format,
    uname: hasUstar ? parseString(block, 265, 32) : '',
    gname: hasUstar ? parseString(block, 297, 32) : '',
    devmajor: hasUstar ? num(block, 329, 8, 'devmajor') : 0,
    devminor: hasUstar ? num(block, 337, 8, 'devminor') : 0,
  };
  if (typeflag === 'S' && format === 'gnu') {
    const { map, isExtended } = parseSparseChunks(block, 386, 4);
    h.gnuSparse = { map, isExtended, realSize: num(block, 483, 12, 'realsize') };
  }
  return h;
}

/** Parse `count` (offset, numbytes) pairs at `start` and the isextended byte after them. */
function parseSparseChunks(block: Buffer, start: number, count: number): { map: SparseChunk[]; isExtended: boolean } {
  const map: SparseChunk[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * 24;
    if (block[at] === 0) break; // an empty slot ends the map
    map.push({ offset: num(block, at, 12, 'sparse offset'), length: num(block, at + 12, 12, 'sparse numbytes') });
  }
  return { map, isExtended: block[start + count * 24] !== 0 };
}

/** Parse an old GNU sparse extension block (21 entries and an isextended byte at 504). */
export function parseSparseExtension(block: Buffer): { map: SparseChunk[]; isExtended: boolean } {
  return parseSparseChunks(block, 0, 21);
}
