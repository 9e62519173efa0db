/**
 * rewriteHeader: change an existing entry's path, link target or type, or drop pax records, while
 * every other byte stays as it was: pax records verbatim (binary xattrs included), main header
 * fields, old-GNU sparse map and extension blocks. Checksums of changed blocks are recomputed.
 */
import {
  assertBinary,
  HEADER_ONLY_TYPES,
  MAX_OCTAL_7,
  paxExtension,
  paxRecord,
  setChecksum,
  splitUstarPath,
  storedName,
  TYPEFLAGS,
} from './blocks.js';
import type { EntryType, PaxRecord, TarEntry } from './entry.js';
import { BLOCK_SIZE, headerFormat, padLength, type HeaderFormat } from './header.js';
import { isPlainAscii, parseNumeric, writeNumeric, writeOctal, writeString } from './numeric.js';

/** The header blocks of an entry, split by role. */
interface Parts {
  pax: Buffer[]; // 'x'/'X' headers with their data
  longName: Buffer[]; // GNU 'L'
  longLink: Buffer[]; // GNU 'K'
  other: Buffer[]; // anything else before the main header ('g' in the middle of an entry)
  main: Buffer;
  tail: Buffer; // old GNU sparse extension blocks
}

function splitParts(header: Buffer): Parts {
  const parts: Parts = { pax: [], longName: [], longLink: [], other: [], main: header, tail: Buffer.alloc(0) };
  let p = 0;
  while (p + BLOCK_SIZE <= header.length) {
    const flag = String.fromCharCode(header[p + 156]!);
    const size = parseNumeric(header, p + 124, 12);
    const list =
      flag === 'x' || flag === 'X'
        ? parts.pax
        : flag === 'L'
          ? parts.longName
          : flag === 'K'
            ? parts.longLink
            : flag === 'g'
              ? parts.other
              : undefined;
    if (!list) {
      parts.main = header.subarray(p, p + BLOCK_SIZE);
      parts.tail = header.subarray(p + BLOCK_SIZE);
      return parts;
    }
    const end = p + BLOCK_SIZE + size + padLength(size);
    list.push(header.subarray(p, end));
    p = end;
  }
  throw new RangeError('rewriteHeader: entry.header has no main header block');
}

/**
 * Re-encode an existing entry's header with changes, keeping every other pax record verbatim
 * (incl. binary SCHILY.xattr values) and all other main-header fields as they were. A new path or
 * link target goes into the main header when it fits (ASCII; ustar prefix+name, else 100 bytes),
 * otherwise into a pax record; GNU 'L'/'K' blocks are dropped when their field changes. For pax
 * sparse entries the new path replaces GNU.sparse.name. Returns `entry.header` itself if nothing changes.
 */
/** What a header sets on the file it names (owner, mode, mtime, and xattrs to set). */
export interface HeaderMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  xattrs: ReadonlyMap<string, Buffer>;
}

export function rewriteHeader(
  entry: TarEntry,
  changes: {
    path?: string;
    linkname?: string;
    type?: EntryType;
    dropPax?: (key: string) => boolean;
    /** Set these (xattrs are added or replaced, the entry's others kept). */
    meta?: HeaderMeta;
  },
): Buffer {
  const parts = splitParts(entry.header);
  const main = Buffer.from(parts.main);
  const format = headerFormat(main);
  const type = changes.type ?? entry.type;
  let records = entry.pax;
  let mainChanged = false;
  let dropLong = false;
  let dropLink = false;
  if (changes.dropPax) records = records.filter((r) => !changes.dropPax!(r.key));
  if (changes.type !== undefined && changes.type !== entry.type) {
    const flag = TYPEFLAGS[changes.type];
    if (flag === undefined) throw new RangeError(`rewriteHeader: cannot set type "${changes.type}"`);
    main[156] = flag.charCodeAt(0);
    if (HEADER_ONLY_TYPES.has(changes.type)) {
      writeOctal(main, 124, 12, 0);
      records = records.filter((r) => r.key !== 'size');
    }
    mainChanged = true;
  }
  if (changes.path !== undefined && changes.path !== entry.path) {
    const name = storedName(changes.path, type);
    assertBinary(name, 'path');
    dropLong = true;
    if (records.some((r) => r.key === 'GNU.sparse.name')) {
      records = setRecord(records, 'GNU.sparse.name', name, true);
      if (records.some((r) => r.key === 'path')) records = setRecord(records, 'path', name, true);
    } else {
      const fits = writeName(main, format, name);
      records = setRecord(records, 'path', name, !fits);
      mainChanged = true;
    }
  }
  if (changes.linkname !== undefined && changes.linkname !== entry.linkname) {
    assertBinary(changes.linkname, 'linkname');
    dropLink = true;
    const fits = isPlainAscii(changes.linkname) && changes.linkname.length <= 100;
    writeString(main, 157, 100, changes.linkname.slice(0, 100));
    records = setRecord(records, 'linkpath', changes.linkname, !fits);
    mainChanged = true;
  }
  if (changes.meta) {
    const r = setMeta(main, records, entry, changes.meta);
    records = r.records;
    mainChanged ||= r.mainChanged;
  }
  const recordsChanged = !sameRecords(records, entry.pax);
  if (!mainChanged && !recordsChanged && !dropLong && !dropLink) return entry.header;
  if (mainChanged) setChecksum(main);
  let pax = parts.pax;
  if (recordsChanged) {
    pax = records.length ? [paxExtension(records, storedName(changes.path ?? entry.path, type), entry.mtime)] : [];
  }
  return Buffer.concat([
    ...pax,
    ...(dropLong ? [] : parts.longName),
    ...(dropLink ? [] : parts.longLink),
    ...parts.other,
    main,
    parts.tail,
  ]);
}

/**
 * Give a header the owner, mode, mtime and xattrs of `meta`: numbers in the main header where they
 * fit (and in their pax records, which win, when the entry has those), else in pax records;
 * each xattr as a SCHILY.xattr record with its exact bytes. Returns the new records and whether
 * the main header changed.
 */
function setMeta(
  main: Buffer,
  records: PaxRecord[],
  entry: TarEntry,
  meta: HeaderMeta,
): { records: PaxRecord[]; mainChanged: boolean } {
  let changed = false;
  const number = (key: 'uid' | 'gid', at: number, value: number) => {
    if (entry[key] === value) return;
    const fits = value <= MAX_OCTAL_7;
    writeOctal(main, at, 8, fits ? value : 0);
    records = setRecord(records, key, String(value), !fits || records.some((r) => r.key === key));
    changed = true;
  };
  if ((entry.mode & 0o7777) !== (meta.mode & 0o7777)) {
    writeOctal(main, 100, 8, meta.mode & 0o7777);
    changed = true;
  }
  number('uid', 108, meta.uid);
  number('gid', 116, meta.gid);
  if (entry.mtime !== meta.mtime) {
    writeNumeric(main, 136, 12, Math.floor(meta.mtime));
    const pax = !Number.isInteger(meta.mtime) || records.some((r) => r.key === 'mtime');
    records = setRecord(records, 'mtime', String(meta.mtime), pax);
    changed = true;
  }
  for (const [name, value] of meta.xattrs) {
    if (entry.xattrs.get(name)?.equals(value)) continue;
    const key = `SCHILY.xattr.${name}`;
    records = [...records.filter((r) => r.key !== key), { key, value }];
  }
  return { records, mainChanged: changed };
}

/**
 * Put a name into the main header if it fits its format: ustar prefix+name, else the 100-byte
 * name field (GNU and v7 use the prefix area for other things). If it does not fit, store a
 * truncated form for readers without pax support and return false.
 */
function writeName(main: Buffer, format: HeaderFormat, name: string): boolean {
  let split: { prefix: string; name: string } | undefined;
  if (isPlainAscii(name)) {
    split = format === 'ustar' ? splitUstarPath(name) : name.length <= 100 ? { prefix: '', name } : undefined;
  }
  const stored = split ?? { prefix: '', name: name.slice(0, 100) };
  writeString(main, 0, 100, stored.name);
  if (format === 'ustar') writeString(main, 345, 155, stored.prefix);
  if (format === 'star') writeString(main, 345, 131, '');
  return split !== undefined;
}

/** Set `key` to `value` if `keep` (first record keeps its place, duplicates go, appended if absent); else remove it. */
function setRecord(records: PaxRecord[], key: string, value: string, keep: boolean): PaxRecord[] {
  const out: PaxRecord[] = [];
  let placed = false;
  for (const r of records) {
    if (r.key !== key) out.push(r);
    else if (keep && !placed) {
      out.push(paxRecord(key, value));
      placed = true;
    }
  }
  if (keep && !placed) out.push(paxRecord(key, value));
  return out;
}

function sameRecords(a: readonly PaxRecord[], b: readonly PaxRecord[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}
