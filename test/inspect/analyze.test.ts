/**
 * Hand-checked cases: every number below is worked out from the method of docs/vfs-cost.md —
 * regular files rounded up to 4 KiB blocks, one 4 KiB block per (small) directory, the root
 * included, hardlinked files once; each layer's VFS copy is the whole merged tree after it.
 */
import { describe, expect, it } from 'vitest';
import { dir, file, inspectLayers, link, opaque, symlink, whiteout } from './helpers.js';

const K = 4096;

describe('inspect analysis', () => {
  it('overwrite: 1000 bytes replaced by 10 wastes 1000', async () => {
    const r = await inspectLayers([[file('a', 1000)], [file('a', 10)]]);
    expect(r.layers.map((l) => [l.added, l.changed, l.contentBytes, l.wastedBytes, l.mergedBytes, l.vfsBytes])).toEqual(
      [
        [1, 0, 1000, 1000, 1000, 2 * K], // root dir + one block of data
        [0, 1, 10, 0, 10, 2 * K],
      ],
    );
    expect(r.totals).toMatchObject({
      layers: 2,
      contentBytes: 1010,
      mergedBytes: 10,
      mergedFiles: 1,
      wastedBytes: 1000,
    });
    expect(r.vfs).toEqual({
      blockSize: K,
      imageBytes: 4 * K,
      imagePlusContainerBytes: 6 * K,
      flatImageBytes: 2 * K,
      flatPlusContainerBytes: 4 * K,
      savingBytes: 2 * K,
      savingFactor: 1.5,
    });
    expect(r.shadowed).toEqual([{ path: '/a', bytes: 1000, addedIn: 0, hiddenIn: 1, how: 'overwritten' }]);
  });

  it('whiteout: the deleted file is wasted, the layer counts one marker and one removed path', async () => {
    const r = await inspectLayers([[dir('etc'), file('etc/a', 5000), file('etc/b', 100)], [whiteout('etc/a')]]);
    const [l0, l1] = r.layers;
    expect(l0).toMatchObject({
      entries: 3,
      added: 3,
      wastedBytes: 5000,
      mergedBytes: 5100,
      vfsBytes: K + K + 2 * K + K,
    });
    expect(l1).toMatchObject({
      entries: 1,
      added: 0,
      changed: 0,
      whiteouts: 1,
      removedPaths: 1,
      mergedBytes: 100,
      vfsBytes: 3 * K,
    });
    expect(r.shadowed).toEqual([{ path: '/etc/a', bytes: 5000, addedIn: 0, hiddenIn: 1, how: 'whited-out' }]);
  });

  it(
    'opaque directory: hides everything below from lower layers, keeps ' +
      'what its layer adds, wherever the marker stands',
    async () => {
      const lower = [dir('d'), file('d/x', 3000), dir('d/sub'), file('d/sub/y', 5000)];
      for (const upper of [
        [dir('d'), opaque('d'), file('d/z', 10)],
        [dir('d'), file('d/z', 10), opaque('d')],
      ]) {
        const r = await inspectLayers([lower, upper]);
        expect(r.layers[1]).toMatchObject({
          opaqueDirs: 1,
          whiteouts: 0,
          removedPaths: 3,
          changed: 1,
          added: 1,
          mergedBytes: 10,
          mergedFiles: 1,
        });
        expect(r.layers[1]!.vfsBytes).toBe(K + K + K); // root, d, d/z
        expect(r.totals.wastedBytes).toBe(8000);
        expect(r.shadowed.map((s) => [s.path, s.how])).toEqual([
          ['/d/sub/y', 'opaque'],
          ['/d/x', 'opaque'],
        ]);
      }
    },
  );

  it('hardlinks: one file counted once; it is wasted only when its last name goes', async () => {
    const r = await inspectLayers([[file('a', 5000), link('b', 'a')], [file('a', 10)], [whiteout('b')]]);
    expect(r.layers.map((l) => [l.mergedBytes, l.mergedFiles, l.vfsBytes])).toEqual([
      [5000, 1, K + 2 * K],
      [5010, 2, K + 2 * K + K], // b keeps the old content: nothing wasted yet
      [10, 1, 2 * K],
    ]);
    expect(r.layers[0]!.contentBytes).toBe(5000);
    expect(r.layers[0]!.wastedBytes).toBe(5000);
    expect(r.shadowed).toEqual([{ path: '/a', bytes: 5000, addedIn: 0, hiddenIn: 2, how: 'whited-out' }]);
  });

  it('chown -R: every file rewritten with the same size wastes every lower byte', async () => {
    const files = (uid: number) => [
      dir('app'),
      file('app/a', 100, { uid }),
      file('app/b', 2000, { uid }),
      file('app/c', 9000, { uid }),
    ];
    const r = await inspectLayers([files(0), files(1000)]);
    expect(r.layers[0]!.wastedBytes).toBe(11100);
    expect(r.layers[1]).toMatchObject({ changed: 4, added: 0, wastedBytes: 0, mergedBytes: 11100 });
    const copy = K + K + K + K + 3 * K; // root, app, a, b, c (9000 bytes = 3 blocks)
    expect(r.layers.map((l) => l.vfsBytes)).toEqual([copy, copy]);
    expect(r.vfs).toMatchObject({
      imageBytes: 2 * copy,
      imagePlusContainerBytes: 3 * copy,
      flatPlusContainerBytes: 2 * copy,
      savingFactor: 1.5,
    });
  });

  it('a file replacing a directory hides the whole subtree', async () => {
    const r = await inspectLayers([[dir('d'), file('d/x', 100), file('d/y', 200)], [file('d', 50)]]);
    expect(r.layers[1]).toMatchObject({ changed: 1, mergedBytes: 50, mergedFiles: 1, vfsBytes: 2 * K });
    expect(r.shadowed.map((s) => [s.path, s.how])).toEqual([
      ['/d/y', 'replaced'],
      ['/d/x', 'replaced'],
    ]);
  });

  it('top shadowed: biggest first, ties by lower layer then path, cut at --top', async () => {
    const layers = [
      [file('s', 10), file('m', 500), file('b', 9000), file('t2', 500)],
      [file('m', 1), file('b', 1), file('t1', 500), whiteout('s'), whiteout('t2')],
      [whiteout('t1')],
    ];
    const all = await inspectLayers(layers, 10);
    expect(all.shadowed.map((s) => `${s.path}:${s.bytes}:${s.addedIn}>${s.hiddenIn}`)).toEqual([
      '/b:9000:0>1',
      '/m:500:0>1',
      '/t2:500:0>1',
      '/t1:500:1>2',
      '/s:10:0>1',
    ]);
    const two = await inspectLayers(layers, 2);
    expect(two.shadowed.map((s) => s.path)).toEqual(['/b', '/m']);
    expect(two.totals.wastedBytes).toBe(all.totals.wastedBytes);
  });

  it(
    'symlinks: short targets live in the inode, long ones take a block; an ' + 'empty layer still costs a full copy',
    async () => {
      const r = await inspectLayers([[symlink('short', 'x'.repeat(59)), symlink('long', 'x'.repeat(60))], []]);
      expect(r.layers.map((l) => [l.entries, l.mergedBytes, l.vfsBytes])).toEqual([
        [2, 0, K + K],
        [0, 0, K + K],
      ]);
    },
  );

  it('a large directory takes blocks as ext4 htree leaves fill', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => file(`d/libsomething-${String(i).padStart(6, '0')}.so.1`, 0));
    const r = await inspectLayers([[dir('d'), ...names]]);
    // 24 + 1000 × 32 entry bytes at ~2900 per block → 12 blocks (ext4 measured 12–13); empty files take none
    expect(r.layers[0]!.vfsBytes).toBe(K + 12 * K);
  });

  it('matches history lines to layers, skipping empty_layer entries; blank when counts differ', async () => {
    const history = [
      { created_by: '/bin/sh -c #(nop) ADD file:ab in / ' },
      { created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
      { created_by: 'RUN /bin/sh -c make # buildkit' },
    ];
    const r = await inspectLayers([[file('a', 1)], [file('b', 1)]], 10, history);
    expect(r.layers.map((l) => l.createdBy)).toEqual([history[0]!.created_by, history[2]!.created_by]);
    const off = await inspectLayers([[file('a', 1)]], 10, history);
    expect(off.layers[0]!.createdBy).toBeUndefined();
  });

  it('reports tar and stored sizes, and entries of every kind', async () => {
    const r = await inspectLayers([[dir('x'), file('x/f', 700), symlink('x/l', 'f')]]);
    expect(r.layers[0]).toMatchObject({
      entries: 3,
      added: 3,
      tarBytes: 512 * 7,
      compressedBytes: 512 * 7,
      compression: 'none',
    });
  });
});
