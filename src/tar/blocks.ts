/**
 * Building blocks for writing headers: typeflags, checksum, ustar name splitting, and the pax 'x'
 * extension header that carries what a ustar header cannot.
 */
import type { EntryType, PaxRecord } from './entry.js';
import { BLOCK_SIZE, checksumOf, padLength } from './header.js';
import { isPlainAscii, writeNumeric, writeOctal, writeString } from './numeric.js';
import { encodePaxRecords } from './pax.js';

export const TYPEFLAGS: Record<EntryType, string | undefined> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  blockdev: '4',
  dir: '5',
  fifo: '6',
  other: undefined,
};

/** Entry types that carry no data after their header. */
export const HEADER_ONLY_TYPES: ReadonlySet<EntryType> = new Set([
  'hardlink',
  'symlink',
  'chardev',
  'blockdev',
  'dir',
  'fifo',
]);

/** Largest value a 7-digit octal field (mode, uid, gid, devmajor, devminor) holds. */
export const MAX_OCTAL_7 = 0o7777777;

/** Compute and store the header checksum (6 octal digits, NUL, space — as GNU tar writes it). */
export function setChecksum(block: Buffer): void {
  writeOctal(block, 148, 7, checksumOf(block));
  block[155] = 0x20;
}

/** Split a path into ustar prefix (<=155) and name (<=100) at a "/", or undefined if impossible. */
export function splitUstarPath(p: string): { prefix: string; name: string } | undefined {
  if (p.length <= 100) return { prefix: '', name: p };
  const i = p.lastIndexOf('/', Math.min(p.length - 2, 155));
  if (i <= 0 || p.length - i - 1 > 100) return undefined;
  return { prefix: p.slice(0, i), name: p.slice(i + 1) };
}

/** The stored form of a path: directories end with "/", the root is "./". */
export function storedName(path: string, type: EntryType): string {
  if (type !== 'dir') return path;
  if (path === '') return './';
  return path.endsWith('/') ? path : `${path}/`;
}

/** A pax record from a key and a binary-string (or already byte) value. */
export function paxRecord(key: string, value: string | Buffer): PaxRecord {
  return { key, value: typeof value === 'string' ? Buffer.from(value, 'latin1') : value };
}

export function assertBinary(s: string, what: string): void {
  if (/[^\x00-\xff]/.test(s)) {
    throw new RangeError(`${what} must be a binary string (one char per byte): ${JSON.stringify(s)}`);
  }
}

/** A pax 'x' header block, its record data and padding, named like GNU tar does ("dir/PaxHeaders/base"). */
export function paxExtension(records: readonly PaxRecord[], forPath: string, mtime: number): Buffer {
  const data = encodePaxRecords(records);
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, 0, 100, paxHeaderName(forPath));
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeNumeric(block, 124, 12, data.length);
  writeNumeric(block, 136, 12, Math.floor(mtime));
  block[156] = 0x78; // 'x'
  block.write('ustar\x0000', 257, 'latin1');
  setChecksum(block);
  return Buffer.concat([block, data, Buffer.alloc(padLength(data.length))]);
}

function paxHeaderName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  const dir = slash < 0 ? '.' : trimmed.slice(0, slash);
  const base = trimmed.slice(slash + 1) || '.';
  let name = `${dir}/PaxHeaders/${base}`;
  if (!isPlainAscii(name) || name.length > 100) name = `PaxHeaders/${base}`.replace(/[^\x20-\x7e]/g, '_').slice(0, 100);
  return name;
}
