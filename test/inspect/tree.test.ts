/**
 * The cost model against verify's FsTree: two separately written bottom-up models of the same
 * engine rules must agree on which paths survive, which layer wrote them, and the bytes left.
 */
import { describe, expect, it } from 'vitest';
import { dirAllocated, direntBytes, fileAllocated, symlinkAllocated } from '../../src/inspect/du.js';
import { CostTree, type Inode } from '../../src/inspect/tree.js';
import { FsTree } from '../../src/verify/fs-tree.js';
import { randomLayers } from '../helpers/random-layers.js';

const sizeOf = (layer: number, ordinal: number) => ((layer * 7919 + ordinal * 104729) % 9000) + 1;

function bothModels(seed: number) {
  const layers = randomLayers(seed);
  const gone: Inode[] = [];
  const cost = new CostTree((inode) => gone.push(inode));
  const ref = new FsTree<{ size: number }>();
  let written = 0;
  layers.forEach((layer, i) => {
    cost.startLayer(i);
    ref.startLayer(i);
    layer.forEach((e, ordinal) => {
      const size = e.type === 'file' && !e.path.split('/').pop()!.startsWith('.wh.') ? sizeOf(i, ordinal) : 0;
      written += e.type === 'file' ? size : 0;
      cost.apply({ ...e, size }, `layer ${i}`);
      ref.apply({ ...e, value: { size } }, `layer ${i}`);
    });
    cost.endLayer();
    ref.endLayer();
  });
  return { cost, ref, gone, written };
}

describe('CostTree', () => {
  it.each(Array.from({ length: 300 }, (_, i) => i))('agrees with FsTree on random layers (seed %i)', (seed) => {
    const { cost, ref, gone, written } = bothModels(seed);
    const mine = [...cost.paths()].map((p) => `${p.path}:${p.layer}:${p.isDir}`).sort();
    const theirs = [...ref.walk()].map(([p, n]) => `${p}:${n.layer}:${n.isDir}`).sort();
    expect(mine).toEqual(theirs);
    const files = new Set([...ref.walk()].filter(([, n]) => !n.isDir && n.value && n.value.size > 0).map(([, n]) => n.value!));
    const visible = [...files].reduce((s, v) => s + v.size, 0);
    expect(cost.totals.regularBytes).toBe(visible);
    // every byte written is either still visible or was reported gone, exactly once
    expect(visible + gone.filter((g) => g.regular).reduce((s, g) => s + g.size, 0)).toBe(written);
    expect(cost.totals.dirs).toBe(mine.filter((p) => p.endsWith(':true')).length);
  });
});

describe('du model', () => {
  it('rounds data up to blocks and keeps short symlinks and small directories to what ext4 allocates', () => {
    expect([fileAllocated(0), fileAllocated(1), fileAllocated(4096), fileAllocated(4097)]).toEqual([0, 4096, 4096, 8192]);
    expect([symlinkAllocated(59), symlinkAllocated(60)]).toEqual([0, 4096]);
    expect([direntBytes(1), direntBytes(4), direntBytes(5), direntBytes(24)]).toEqual([12, 12, 16, 32]);
    // measured on ext4 after tar extraction (names of 24 bytes): 100 → 1 block, 1000 → 13, 3000 → 34, 10000 → 109
    expect(dirAllocated(100 * 32)).toBe(4096);
    expect(dirAllocated(3000 * 32) / 4096).toBe(34);
    expect(dirAllocated(10000 * 32) / 4096).toBe(111);
  });
});
