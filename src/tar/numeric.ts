/**
 * Numeric and string fields of tar header blocks: octal (NUL/space terminated, leading spaces
 * allowed) and GNU base-256 (high bit of the first byte set; two's complement, so negative values
 * such as pre-1970 mtimes work). Parsers return NaN for a malformed field; callers name the field.
 */

/** Parse a numeric header field; NaN if malformed or beyond Number.MAX_SAFE_INTEGER. */
export function parseNumeric(b: Buffer, start: number, len: number): number {
  return (b[start]! & 0x80) !== 0 ? parseBase256(b, start, start + len) : parseOctal(b, start, start + len);
}

function parseOctal(b: Buffer, i: number, end: number): number {
  while (i < end && b[i] === 0x20) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  if (i < end && b[i] !== 0 && b[i] !== 0x20) return NaN;
  return v;
}

function parseBase256(b: Buffer, start: number, end: number): number {
  const inv = (b[start]! & 0x40) !== 0 ? 0xff : 0;
  let v = 0;
  for (let i = start; i < end; i++) {
    let c = b[i]! ^ inv;
    if (i === start) c &= 0x7f;
    v = v * 256 + c;
    if (v > Number.MAX_SAFE_INTEGER) return NaN;
  }
  return inv ? -(v + 1) : v;
}

/** A NUL-terminated (or field-filling) string as a binary string: one char per byte. */
export function parseString(b: Buffer, start: number, len: number): string {
  let end = start;
  const limit = start + len;
  while (end < limit && b[end] !== 0) end++;
  return end === start ? '' : b.toString('latin1', start, end);
}

/** Write `value` as zero-padded octal plus a NUL; false if it does not fit (or is not a natural number). */
export function writeOctal(b: Buffer, start: number, len: number, value: number): boolean {
  if (!Number.isInteger(value) || value < 0) return false;
  const s = value.toString(8);
  if (s.length > len - 1) return false;
  b.write(s.padStart(len - 1, '0'), start, 'latin1');
  b[start + len - 1] = 0;
  return true;
}

/** Write octal when it fits, else GNU base-256 (handles negatives). Throws RangeError if neither fits. */
export function writeNumeric(b: Buffer, start: number, len: number, value: number): void {
  if (writeOctal(b, start, len, value)) return;
  if (!Number.isSafeInteger(value)) throw new RangeError(`tar numeric field: ${value} is not a safe integer`);
  let v = value < 0 ? -(value + 1) : value; // magnitude in one's complement for negatives
  const inv = value < 0 ? 0xff : 0;
  for (let i = start + len - 1; i > start; i--) {
    b[i] = (v % 256) ^ inv;
    v = Math.floor(v / 256);
  }
  if (v > 0x3f) throw new RangeError(`tar numeric field: ${value} does not fit in ${len} bytes`);
  b[start] = 0x80 | (inv & 0x40) | (v ^ (inv & 0x3f));
}

/** Write a binary string's bytes into a NUL-filled field; false if longer than the field. */
export function writeString(b: Buffer, start: number, len: number, s: string): boolean {
  if (s.length > len) return false;
  b.fill(0, start, start + len);
  b.write(s, start, 'latin1');
  return true;
}

/** True when every char of a binary string is 7-bit ASCII without NUL. */
export function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7e) return false;
  }
  return true;
}
