import { describe, expect, it } from 'vitest';
import { parseNumeric, parseString, writeNumeric, writeOctal } from '../../src/tar/numeric.js';

const field = (s: string, len = 12) => {
  const b = Buffer.alloc(len);
  b.write(s, 'latin1');
  return b;
};

describe('parseNumeric', () => {
  it('reads octal terminated by NUL or space, with leading spaces', () => {
    expect(parseNumeric(field('00000001750\0'), 0, 12)).toBe(0o1750);
    expect(parseNumeric(field('  1750 \0'), 0, 12)).toBe(0o1750);
    expect(parseNumeric(field('0000644 ', 8), 0, 8)).toBe(0o644);
    expect(parseNumeric(field('', 8), 0, 8)).toBe(0);
    expect(parseNumeric(field('777777777777'), 0, 12)).toBe(0o777777777777); // no terminator
  });

  it('rejects garbage', () => {
    expect(parseNumeric(field('12x4\0'), 0, 12)).toBeNaN();
    expect(parseNumeric(field('0009\0'), 0, 12)).toBeNaN();
  });

  it('reads GNU base-256, positive and negative', () => {
    const b = Buffer.alloc(8);
    b[0] = 0x80;
    b.writeUInt32BE(3_000_000, 4);
    expect(parseNumeric(b, 0, 8)).toBe(3_000_000);
    expect(parseNumeric(Buffer.alloc(12, 0xff), 0, 12)).toBe(-1);
    const big = Buffer.alloc(12);
    big[0] = 0x80;
    big.writeUIntBE(2 ** 40, 6, 6);
    expect(parseNumeric(big, 0, 12)).toBe(2 ** 40);
  });

  it('refuses base-256 beyond 2^53', () => {
    const b = Buffer.alloc(12, 0);
    b[0] = 0x80;
    b[3] = 0x01;
    expect(parseNumeric(b, 0, 12)).toBeNaN();
  });
});

describe('writeNumeric', () => {
  for (const v of [0, 1, 0o777, 0o77777777777, 8 * 2 ** 30, 2 ** 52, -1, -2, -1_000_000_000, -(2 ** 40)]) {
    it(`round-trips ${v}`, () => {
      const b = Buffer.alloc(12);
      writeNumeric(b, 0, 12, v);
      expect(parseNumeric(b, 0, 12)).toBe(v);
    });
  }

  it('uses octal when it fits and base-256 otherwise', () => {
    const b = Buffer.alloc(8);
    writeNumeric(b, 0, 8, 0o7777777);
    expect(b.toString('latin1')).toBe('7777777\0');
    writeNumeric(b, 0, 8, 0o10000000);
    expect(b[0]).toBe(0x80);
    expect(writeOctal(b, 0, 8, 0o10000000)).toBe(false);
  });
});

describe('parseString', () => {
  it('stops at NUL and keeps bytes as latin1', () => {
    const b = Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0, 0x62]);
    expect(parseString(b, 0, 6)).toBe('a\xff\xc3\xa9');
    expect(parseString(b, 0, 2)).toBe('a\xff');
  });
});
