/**
 * Writing tar: new headers only where we must (ustar when it fits, pax 'x' otherwise), rewritten
 * headers that keep every other byte, padding and the end-of-archive marker. Kept entries are
 * copied by the caller as `entry.header` + data + `paddingFor(entry.dataSize)`.
 */
import { LayerflatError } from '../errors.js';
import {
  assertBinary,
  MAX_OCTAL_7,
  paxExtension,
  paxRecord,
  setChecksum,
  splitUstarPath,
  storedName,
  TYPEFLAGS,
} from './blocks.js';
import type { EntryType, PaxRecord } from './entry.js';
import { BLOCK_SIZE, padLength } from './header.js';
import { isPlainAscii, writeNumeric, writeOctal, writeString } from './numeric.js';

export { rewriteHeader } from './rewrite.js';

export interface NewHeaderFields {
  path: string /* binary string */;
  type: EntryType;
  mode: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: number;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

/**
 * Build header blocks for a new entry: ustar when everything fits (ASCII name <=100 or splittable
 * into prefix+name, linkname <=100, numbers fit octal), else a pax 'x' header with path/linkpath
 * (and uid/gid/uname/gname/fractional mtime when they do not fit) followed by the ustar header.
 * `extraPax` records are added to the pax header verbatim. Sizes that do not fit octal use GNU
 * base-256 in the ustar header, so an ASCII path <= 100 bytes always yields exactly 512 bytes.
 * Directories are stored with a trailing "/" (the root as "./"). Strings are binary strings.
 */
export function buildHeader(fields: NewHeaderFields, extraPax: PaxRecord[] = []): Buffer {
  const typeflag = TYPEFLAGS[fields.type];
  if (typeflag === undefined) {
    throw new LayerflatError('UNSUPPORTED', `cannot build a tar header for type "${fields.type}"`);
  }
  const name = storedName(fields.path, fields.type);
  const linkname = fields.linkname ?? '';
  const uid = fields.uid ?? 0;
  const gid = fields.gid ?? 0;
  const uname = fields.uname ?? '';
  const gname = fields.gname ?? '';
  const mtime = fields.mtime ?? 0;
  assertBinary(name, 'path');
  assertBinary(linkname, 'linkname');
  const records: PaxRecord[] = [];
  const split = isPlainAscii(name) ? splitUstarPath(name) : undefined;
  if (!split) records.push(paxRecord('path', name));
  if (!(isPlainAscii(linkname) && linkname.length <= 100)) records.push(paxRecord('linkpath', linkname));
  if (uid > MAX_OCTAL_7) records.push(paxRecord('uid', String(uid)));
  if (gid > MAX_OCTAL_7) records.push(paxRecord('gid', String(gid)));
  if (!(isPlainAscii(uname) && uname.length < 32)) records.push(paxRecord('uname', uname));
  if (!(isPlainAscii(gname) && gname.length < 32)) records.push(paxRecord('gname', gname));
  if (!Number.isInteger(mtime)) records.push(paxRecord('mtime', String(mtime)));
  records.push(...extraPax);

  const b = Buffer.alloc(BLOCK_SIZE);
  const parts = split ?? { prefix: '', name: name.slice(0, 100) };
  writeString(b, 0, 100, parts.name);
  writeOctal(b, 100, 8, fields.mode & 0o7777);
  writeNumeric(b, 108, 8, uid);
  writeNumeric(b, 116, 8, gid);
  writeNumeric(b, 124, 12, fields.size ?? 0);
  writeNumeric(b, 136, 12, Math.floor(mtime));
  b[156] = typeflag.charCodeAt(0);
  writeString(b, 157, 100, linkname.slice(0, 100));
  b.write('ustar\x0000', 257, 'latin1');
  writeString(b, 265, 32, uname.slice(0, 31));
  writeString(b, 297, 32, gname.slice(0, 31));
  writeNumeric(b, 329, 8, fields.devmajor ?? 0);
  writeNumeric(b, 337, 8, fields.devminor ?? 0);
  writeString(b, 345, 155, parts.prefix);
  setChecksum(b);
  return records.length ? Buffer.concat([paxExtension(records, name, mtime), b]) : b;
}

/** Zero bytes to the next 512 boundary after `dataSize` bytes of data. */
export function paddingFor(dataSize: number): Buffer {
  return Buffer.alloc(padLength(dataSize));
}

/** Two zero blocks: the end-of-archive marker. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK_SIZE);
