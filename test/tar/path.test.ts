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
    // names as the engines read them: re-rooted, ".." resolved inside the root
    ['/etc/passwd', 'etc/passwd'],
    ['//x', 'x'],
    ['a/../b', 'b'],
    ['a/..', ''],
    ['x/../a', 'a'],
    ['/a/b/../c', 'a/c'],
  ])('%j → %j', (raw, want) => {
    expect(normalizePath(raw)).toBe(want);
  });

  it.each(['..', '../x', './..', 'a/../../b', '/../victim/dotdot'])('refuses %j: it climbs above the root', (raw) => {
    expect(() => normalizePath(raw)).toThrow(expect.objectContaining({ code: 'BAD_PATH' }));
  });
});
