import { describe, expect, it } from 'vitest';
import { TarProblem } from '../../src/tar/fail.js';
import { encodePaxRecords, parsePaxRecords } from '../../src/tar/pax.js';

describe('encodePaxRecords', () => {
  it('computes the self-referential length across digit boundaries', () => {
    for (let n = 0; n < 1200; n++) {
      const data = encodePaxRecords([{ key: 'k', value: Buffer.alloc(n, 0x61) }]);
      const len = Number(data.toString('latin1').split(' ')[0]);
      expect(len).toBe(data.length);
    }
  });

  it('keeps binary values byte for byte', () => {
    const cap = Buffer.from('0100000200000080000000000000000000000000', 'hex');
    const recs = [
      { key: 'SCHILY.xattr.security.capability', value: cap },
      { key: 'path', value: Buffer.from([0x66, 0xff, 0x0a, 0x3d]) }, // newline and "=" inside a value
    ];
    const back = parsePaxRecords(encodePaxRecords(recs));
    expect(back.map((r) => r.key)).toEqual(['SCHILY.xattr.security.capability', 'path']);
    expect(back[0]!.value.equals(cap)).toBe(true);
    expect(back[1]!.value.equals(Buffer.from([0x66, 0xff, 0x0a, 0x3d]))).toBe(true);
  });
});

describe('parsePaxRecords', () => {
  it('parses records and tolerates trailing NULs', () => {
    const data = Buffer.concat([Buffer.from('30 mtime=1795610120.335641338\n8 a=b=c\n'), Buffer.alloc(20)]);
    const recs = parsePaxRecords(data);
    expect(recs.map((r) => [r.key, r.value.toString()])).toEqual([
      ['mtime', '1795610120.335641338'],
      ['a', 'b=c'],
    ]);
  });

  it('accepts an empty value', () => {
    expect(parsePaxRecords(Buffer.from('5 a=\n'))[0]!.value.length).toBe(0);
  });

  for (const [what, text] of [
    ['no length', 'path=x\n'],
    ['length too long', '99 path=x\n'],
    ['length too short', '5 path=x\n'],
    ['no newline', '10 path=xy'],
    ['no equals sign', '9 pathx\n\n'],
    ['empty key', '6 =ab\n'],
    ['garbage after NUL', '9 path=x\n\0\0x'],
  ] as const) {
    it(`rejects ${what}`, () => {
      expect(() => parsePaxRecords(Buffer.from(text, 'latin1'))).toThrow(TarProblem);
    });
  }
});
