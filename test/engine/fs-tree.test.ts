/** The reference model's own rules, applied bottom-up as an engine applies layers. */
import { describe, expect, it } from 'vitest';
import { FsTree } from '../../src/engine/fs-tree.js';
import type { EntryType } from '../../src/tar/entry.js';

type E = { path: string; type?: EntryType; linkname?: string };

function build(layers: E[][]): string[] {
  const tree = new FsTree<string>();
  layers.forEach((entries, i) => {
    tree.startLayer(i);
    entries.forEach((e, k) =>
      tree.apply({ path: e.path, type: e.type ?? 'file', linkname: e.linkname ?? '', value: `${i}:${k}` }),
    );
    tree.endLayer();
  });
  return [...tree.walk()].map(([p, n]) => `${p || '.'} ${n.isDir ? 'dir' : n.value}`);
}

describe('FsTree', () => {
  it('makes implicit parents, merges directories and lets a file replace a subtree', () => {
    expect(build([[{ path: 'a/b/c' }], [{ path: 'a/b', type: 'dir' }, { path: 'a/d' }]])).toEqual([
      '. dir',
      'a dir',
      'a/b dir',
      'a/b/c 0:0',
      'a/d 1:1',
    ]);
    expect(build([[{ path: 'a/b/c' }], [{ path: 'a' }]])).toEqual(['. dir', 'a 1:0']);
  });

  it("applies a layer's whiteouts at its end, to lower layers only", () => {
    expect(
      build([
        [{ path: 'x' }, { path: 'y' }],
        [{ path: '.wh.x' }, { path: 'x' }, { path: '.wh.y' }],
      ]),
    ).toEqual(['. dir', 'x 1:1']);
  });

  it('keeps what the opaque layer adds and drops what lower layers had below', () => {
    const lower = [{ path: 'o', type: 'dir' as const }, { path: 'o/old' }];
    expect(build([lower, [{ path: 'o/new' }, { path: 'o/.wh..wh..opq' }]])).toEqual(['. dir', 'o dir', 'o/new 1:0']);
  });

  it('gives a hardlink its target value, and refuses a link to nothing', () => {
    expect(build([[{ path: 'a' }, { path: 'b', type: 'hardlink', linkname: 'a' }]])).toEqual([
      '. dir',
      'a 0:0',
      'b 0:0',
    ]);
    expect(() => build([[{ path: 'b', type: 'hardlink', linkname: 'nope' }]])).toThrow(/missing/);
  });
});
