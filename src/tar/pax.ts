/**
 * Pax extended header data: "%d key=value\n" records. Values stay raw bytes (binary xattrs such as
 * security.capability must survive); keys are binary strings (one char per byte).
 */
import type { PaxRecord } from './entry.js';
import { TarProblem } from './fail.js';

function bad(what: string): never {
  throw new TarProblem('BAD_TAR', `malformed pax record: ${what}`);
}

/** Parse pax extended header data. Trailing NUL padding is tolerated. Throws TarProblem (BAD_TAR). */
export function parsePaxRecords(data: Buffer): PaxRecord[] {
  const records: PaxRecord[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) {
      for (let i = pos; i < data.length; i++) if (data[i] !== 0) bad(`NUL byte inside the data at ${i}`);
      break;
    }
    let sp = pos;
    let len = 0;
    while (sp < data.length && data[sp]! >= 0x30 && data[sp]! <= 0x39 && sp - pos < 12) {
      len = len * 10 + data[sp]! - 0x30;
      sp++;
    }
    if (sp === pos || data[sp] !== 0x20) bad(`no length at ${pos}`);
    const end = pos + len;
    if (len < sp - pos + 4 || end > data.length) bad(`length ${len} at ${pos} is out of range`);
    if (data[end - 1] !== 0x0a) bad(`record at ${pos} does not end with a newline`);
    const eq = data.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= end - 1) bad(`record at ${pos} has no "="`);
    if (eq === sp + 1) bad(`record at ${pos} has an empty key`);
    records.push({ key: data.toString('latin1', sp + 1, eq), value: data.subarray(eq + 1, end - 1) });
    pos = end;
  }
  return records;
}

/** Encode records as pax extended header data (no block padding), lengths self-consistent. */
export function encodePaxRecords(records: readonly PaxRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const { key, value } of records) {
    if (key === '' || key.includes('=') || /[^\x00-\xff]/.test(key)) {
      throw new RangeError(`bad pax key ${JSON.stringify(key)}`);
    }
    const rest = 1 + key.length + 1 + value.length + 1; // " key=value\n"
    const digits = String(rest).length;
    let len = rest + digits;
    if (String(len).length !== digits) len = rest + String(len).length;
    parts.push(Buffer.from(`${len} ${key}=`, 'latin1'), value, NEWLINE);
  }
  return Buffer.concat(parts);
}

const NEWLINE = Buffer.from('\n');

/** Decimal integer value of a pax record (size, uid, gid, GNU.sparse.*); throws TarProblem if malformed. */
export function paxInteger(r: PaxRecord): number {
  const s = r.value.toString('latin1');
  const v = /^[0-9]{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(v)) bad(`${r.key}=${JSON.stringify(s)} is not a non-negative integer`);
  return v;
}

/** Pax time value ("-12.5", "1700000000.123456789"); throws TarProblem if malformed. */
export function paxTime(r: PaxRecord): number {
  const s = r.value.toString('latin1');
  if (!/^-?[0-9]{1,19}(\.[0-9]*)?$/.test(s)) bad(`${r.key}=${JSON.stringify(s)} is not a time`);
  return Number(s);
}

/** Decode a LIBARCHIVE.xattr.* name (percent-encoded) as a binary string. */
export function libarchiveXattrName(encoded: string): string {
  return encoded.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}
