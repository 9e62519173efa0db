/** Hardlink bugs users met in other flatteners (FIELD-NOTES.md). */
import { describe, expect, it } from 'vitest';
import type { TarEntry } from '../../src/tar/entry.js';
import { imageView } from '../../src/verify/image-view.js';
import { flatMem, flatSpecs, memLayer } from '../helpers/mem-layers.js';
import type { EntrySpec } from '../helpers/tar-builder.js';

/** A flat layer's entry as a spec again (to apply the flat layer as a layer of its own). */
function specOf(e: TarEntry, data: Buffer): EntrySpec {
  return {
    path: e.type === 'dir' ? `${e.path}/` : e.path,
    type: e.type,
    linkname: e.type === 'hardlink' || e.type === 'symlink' ? e.linkname : undefined,
    content: e.type === 'file' ? data : undefined,
    uid: e.uid,
    gid: e.gid,
    mode: e.mode,
    mtime: e.mtime,
  };
}

describe('hardlinks', () => {
  it(
    'ggcr#977, docker-squash#99, docker2aci#98, singularity#2686: target ' + 'deleted later → the link keeps the file',
    async () => {
      const flat = await flatSpecs(
        [
          { path: 'usr/bin/python3.11', content: 'interp' },
          { path: 'usr/bin/python3', type: 'hardlink', linkname: 'usr/bin/python3.11' },
        ],
        [{ path: 'usr/bin/.wh.python3.11' }],
      );
      expect(flat.get('usr/bin/python3')).toEqual({ type: 'file', content: 'interp', linkname: '' });
      expect(flat.has('usr/bin/python3.11')).toBe(false);
    },
  );

  it('ggcr#2002: target overwritten later → the untouched name keeps the old content', async () => {
    const flat = await flatSpecs(
      [
        { path: 'etc/a', content: 'layer 1' },
        { path: 'etc/b', type: 'hardlink', linkname: 'etc/a' },
      ],
      [{ path: 'etc/a', content: 'layer 2' }],
    );
    expect(flat.get('etc/a')?.content).toBe('layer 2');
    expect(flat.get('etc/b')).toEqual({ type: 'file', content: 'layer 1', linkname: '' });
  });

  it('emitted links always point at an earlier entry holding the right content', async () => {
    const flat = await flatSpecs(
      [
        { path: 'a', content: 'v1' },
        { path: 'b', type: 'hardlink', linkname: 'a' },
        { path: 'c', type: 'hardlink', linkname: 'a' },
      ],
      [{ path: '.wh.a' }],
    );
    expect([...flat]).toEqual([
      ['b', { type: 'file', content: 'v1', linkname: '' }],
      ['c', { type: 'hardlink', content: '', linkname: 'b' }],
    ]);
  });

  it('a whiteout stored as a hardlink entry is still a whiteout', async () => {
    const flat = await flatSpecs(
      [
        { path: 'x', content: 'x' },
        { path: 'y', content: 'y' },
      ],
      [{ path: '.wh.x' }, { path: '.wh.y', type: 'hardlink', linkname: '.wh.x' }],
    );
    expect([...flat.keys()]).toEqual([]);
  });

  it('a hardlink whose target lies below its own name is refused, as engines refuse it (found by unpack)', async () => {
    // docker and podman RemoveAll the link's name, then link(2): "b" takes "b/x" away with it. The
    // model used to link to the file it still held, and the exact plan then wrote a link to itself.
    for (const layers of [
      [[{ path: 'b/' }, { path: 'b/x', content: 'x' }, { path: 'b', type: 'hardlink' as const, linkname: 'b/x' }]],
      [[{ path: 'b/' }, { path: 'b/x', content: 'x' }], [{ path: 'b', type: 'hardlink' as const, linkname: 'b/x' }]],
      [
        [{ path: 'b/' }, { path: 'l', type: 'symlink' as const, linkname: 'b' }],
        [
          { path: 'l/x', content: 'x' },
          { path: 'b', type: 'hardlink' as const, linkname: 'l/x' },
        ],
      ],
    ]) {
      await expect(imageView(layers.map((l) => memLayer(l)))).rejects.toMatchObject({ code: 'BAD_TAR' });
      await expect(flatSpecs(...layers)).rejects.toMatchObject({ code: 'BAD_TAR' });
    }
  });
});

describe('hardlink headers carry metadata the engines apply (ggcr round-trip data, docs/engine-rules.md §3)', () => {
  const base = [
    { path: 'regular', content: 'data', uid: 0, gid: 0, mode: 0o644 },
    { path: 'hard link', type: 'hardlink' as const, linkname: 'regular', uid: 1337, gid: 2020, mode: 0o755 },
  ];
  const zero = [base[0]!, { ...base[1]!, mode: 0 }];

  /** The flat layer as the engines would apply it, and the reference model, as path → "uid:gid mode". */
  async function shown(...layers: EntrySpec[][]) {
    const { entries } = await flatMem(layers.map((l, i) => memLayer(l, `layer ${i + 1}`)));
    const model = await imageView(layers.map((l, i) => memLayer(l, `layer ${i + 1}`)));
    const flat = await imageView([
      memLayer(
        entries.map(({ entry, data }) => specOf(entry, data)),
        'flat',
      ),
    ]);
    const of = (tree: typeof model, p: string) => {
      const v = tree.lookup(p)?.value;
      return v && `${v.uid}:${v.gid} ${v.mode.toString(8)}`;
    };
    return { model: (p: string) => of(model, p), flat: (p: string) => of(flat, p) };
  }

  it("gives every name of the file the link header's owner and mode, mode 0 included", async () => {
    for (const layer of [base, zero]) {
      const s = await shown(layer);
      const want = layer === base ? '1337:2020 755' : '1337:2020 0';
      expect([s.model('regular'), s.model('hard link')]).toEqual([want, want]);
      expect([s.flat('regular'), s.flat('hard link')]).toEqual([want, want]);
    }
  });

  it(
    "keeps the link header's owner and mode on the surviving " + 'name when a later layer overwrites the target',
    async () => {
      const s = await shown(base, [{ path: 'regular', content: 'new', uid: 7, gid: 7, mode: 0o600 }]);
      expect([s.model('regular'), s.model('hard link')]).toEqual(['7:7 600', '1337:2020 755']);
      expect([s.flat('regular'), s.flat('hard link')]).toEqual(['7:7 600', '1337:2020 755']);
    },
  );

  it(
    'keeps it on the target when a later layer deletes the link ' +
      '(planned exactly: the names that set it are hidden)',
    async () => {
      const s = await shown(base, [{ path: '.wh.hard link' }]);
      expect(s.model('regular')).toBe('1337:2020 755');
      expect(s.flat('regular')).toBe('1337:2020 755');
    },
  );

  it('leaves a symlink at 0777 when a hardlink to it says another mode (docs/engine-rules.md §6.2, 6.3)', async () => {
    const s = await shown([
      { path: 's', type: 'symlink', linkname: 'etc/passwd', mode: 0o644 },
      { path: 'h', type: 'hardlink', linkname: 's', uid: 5, gid: 5, mode: 0o644 },
    ]);
    expect([s.model('s'), s.model('h')]).toEqual(['5:5 777', '5:5 777']);
    expect([s.flat('s'), s.flat('h')]).toEqual(['5:5 777', '5:5 777']);
  });
});
