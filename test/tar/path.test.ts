import { describe, expect, it } from 'vitest';
import { normalizePath } from '../../src/tar/path.js';

describe('normalizePath', () => {
  it.each([
    ['a/b', 'a/b'],
    ['./a/b', 'a/b'],
    ['././a', 'a'],
    ['.//a', 'a'],
    ['a/b/', 'a/b'],
    ['a//b', 'a/b'],
    ['a/./b', 'a/b'],
    ['a/b/.', 'a/b'],
    ['.', ''],
    ['./', ''],
    ['', ''],
    ['.wh..wh..opq', '.wh..wh..opq'],
    ['a/..b', 'a/..b'],
    ['...', '...'],
    ['\xff\xfe/x', '\xff\xfe/x'],
  ])('%j → %j', (raw, want) => {
    expect(normalizePath(raw)).toBe(want);
  });

  it.each(['/etc/passwd', '//x', '..', '../x', 'a/../b', 'a/..', './..'])('refuses %j', (raw) => {
    expect(() => normalizePath(raw)).toThrow(expect.objectContaining({ code: 'BAD_PATH' }));
  });
});
