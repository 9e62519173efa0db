/**
 * The cost model: verify's FsTree with a running du-like tally. The tally, kept up to date entry
 * by entry as the tree changes, must equal the same measure taken afresh of the final tree, and
 * every byte written must be either still visible or reported gone, exactly once.
 */
import { describe, expect, it } from 'vitest';
import { dirAllocated, direntBytes, fileAllocated, symlinkAllocated } from '../../src/inspect/du.js';
import { CostTree, type Inode } from '../../src/inspect/tree.js';
import { FsTree } from '../../src/engine/fs-tree.js';
import { randomLayers } from '../helpers/random-layers.js';

const sizeOf = (layer: number, ordinal: number) => ((layer * 7919 + ordinal * 104729) % 9000) + 1;

function build(seed: number) {
  const layers = randomLayers(seed);
  const gone: Inode[] = [];
  const cost = new CostTree((inode) => gone.push(inode));
  const plain = new FsTree<{ size: number }>(); // the same model with no observer
  let written = 0;
  layers.forEach((layer, i) => {
    cost.startLayer(i);
    plain.startLayer(i);
    layer.forEach((e, ordinal) => {
      const size = e.type === 'file' && !e.path.split('/').pop()!.startsWith('.wh.') ? sizeOf(i, ordinal) : 0;
      written += e.type === 'file' ? size : 0;
      cost.apply({ ...e, size });
      plain.apply({ ...e, value: { size } });
    });
    cost.endLayer();
    plain.endLayer();
  });
  return { cost, plain, gone, written };
}

/** The tally's measure, taken afresh from the final tree. */
function measure(cost: CostTree) {
  const paths = [...cost.paths()];
  const entryBytes = new Map<string, number>();
  for (const p of paths) {
    if (p.path === '') continue;
    const slash = p.path.lastIndexOf('/');
    const parent = slash < 0 ? '' : p.path.slice(0, slash);
    entryBytes.set(parent, (entryBytes.get(parent) ?? 0) + direntBytes(p.path.length - slash - 1));
  }
  const inodes = new Set(paths.flatMap((p) => (p.inode ? [p.inode] : [])));
  const dirs = paths.filter((p) => p.isDir);
  const regular = [...inodes].filter((i) => i.regular);
  return {
    regularBytes: regular.reduce((s, i) => s + i.size, 0),
    regularFiles: regular.length,
    dirs: dirs.length,
    others: inodes.size - regular.length,
    allocated:
      dirs.reduce((s, d) => s + dirAllocated(entryBytes.get(d.path) ?? 0), 0) +
      [...inodes].reduce((s, i) => s + i.allocated, 0),
  };
}

/** A random image, or undefined when the engines would refuse it (a file or dangling symlink as a parent). */
function buildOrRefused(seed: number) {
  try {
    return build(seed);
  } catch (err) {
    expect(err).toMatchObject({ code: 'BAD_TAR' });
    return undefined;
  }
}

describe('CostTree', () => {
  it('applies most random images (the rest the engines refuse, and so does the model)', () => {
    const applied = Array.from({ length: 300 }, (_, i) => buildOrRefused(i)).filter(Boolean).length;
    expect(applied).toBeGreaterThan(150);
  });

  it.each(Array.from({ length: 300 }, (_, i) => i))(
    'keeps a tally equal to a fresh measure of the tree (seed %i)',
    (seed) => {
      const built = buildOrRefused(seed);
      if (!built) return;
      const { cost, plain, gone, written } = built;
      expect(cost.totals).toEqual(measure(cost));
      // observing the tree does not change it
      expect([...cost.paths()].map((p) => `${p.path}:${p.layer}:${p.isDir}`)).toEqual(
        [...plain.walk()].map(([p, n]) => `${p}:${n.layer}:${n.isDir}`),
      );
      // every byte written is either still visible or was reported gone, exactly once
      expect(cost.totals.regularBytes + gone.filter((g) => g.regular).reduce((s, g) => s + g.size, 0)).toBe(written);
      expect(new Set(gone).size).toBe(gone.length);
    },
  );
});

describe('du model', () => {
  it('rounds data up to blocks and keeps short symlinks and small directories to what ext4 allocates', () => {
    expect([fileAllocated(0), fileAllocated(1), fileAllocated(4096), fileAllocated(4097)]).toEqual([
      0, 4096, 4096, 8192,
    ]);
    expect([symlinkAllocated(59), symlinkAllocated(60)]).toEqual([0, 4096]);
    expect([direntBytes(1), direntBytes(4), direntBytes(5), direntBytes(24)]).toEqual([12, 12, 16, 32]);
    // measured on ext4 after tar extraction (names of 24 bytes):
    // 100 → 1 block, 1000 → 13, 3000 → 34, 10000 → 109
    expect(dirAllocated(100 * 32)).toBe(4096);
    expect(dirAllocated(3000 * 32) / 4096).toBe(34);
    expect(dirAllocated(10000 * 32) / 4096).toBe(111);
  });
});
