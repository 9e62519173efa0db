/** Entries other flatteners lost or mangled (FIELD-NOTES.md). */
import { describe, expect, it } from 'vitest';
import { flatMem, flatSpecs, memLayer } from '../helpers/mem-layers.js';
import { utf8 } from '../helpers/tar-builder.js';
import { imageView } from '../../src/verify/image-view.js';

describe('entries that must survive', () => {
  it('dangling symlinks are kept (61 paths lost on a Jupyter-style image elsewhere)', async () => {
    const flat = await flatSpecs([{ path: 'opt/conda/lib/libfoo.so', type: 'symlink', linkname: 'libfoo.so.1' }]);
    expect(flat.get('opt/conda/lib/libfoo.so')).toMatchObject({ type: 'symlink', linkname: 'libfoo.so.1' });
  });

  it('ggcr#2238: absolute symlink targets are kept as they are', async () => {
    const flat = await flatSpecs([{ path: 'etc/localtime', type: 'symlink', linkname: '/usr/share/zoneinfo/UTC' }]);
    expect(flat.get('etc/localtime')?.linkname).toBe('/usr/share/zoneinfo/UTC');
  });

  it('non-UTF-8, unicode, >100- and >255-byte names come through byte for byte', async () => {
    const latin1 = 'caf\xe9'; // a single 0xE9 byte: not UTF-8
    const long = `${'d'.repeat(120)}/${'e'.repeat(150)}/${utf8('ファイル')}`;
    const flat = await flatSpecs([
      { path: latin1, content: '1' },
      { path: utf8('日本語/😀'), content: '2' },
      { path: long, content: '3', format: 'gnu' },
    ]);
    expect([...flat.keys()].sort()).toEqual([latin1, long, utf8('日本語/😀')].sort());
  });

  it('parent directories with no entry of their own are fine', async () => {
    const flat = await flatSpecs([{ path: 'a/b/c/file', content: 'x' }], [{ path: 'a/b/other', content: 'y' }]);
    expect([...flat.keys()]).toEqual(['a/b/other', 'a/b/c/file']);
  });

  it('moby#25957: ~130 layers ("max depth exceeded" elsewhere) flatten into one', async () => {
    const layers = Array.from({ length: 130 }, (_, i) =>
      memLayer([{ path: `l${i}`, content: String(i) }, ...(i > 0 ? [{ path: `.wh.l${i - 1}` }] : [])]),
    );
    const { entries } = await flatMem(layers);
    expect(entries.map((e) => [e.entry.path, e.data.toString()])).toEqual([['l129', '129']]);
  });
});

describe('the same path twice in one layer', () => {
  // docker and podman both refuse such a layer ("duplicates of file paths not supported"), after
  // cleaning names: "./a" and "a" are one path. Only an absolute name and its relative twin
  // ("/a", "a") load — the engines' check tells them apart, and the last one wins.
  it.each([
    [
      'file and file',
      [
        { path: 'a', content: '1' },
        { path: 'a', content: '2' },
      ],
    ],
    ['dir and dir', [{ path: 'd/' }, { path: 'd/' }]],
    ['file and dir', [{ path: 'x', content: '1' }, { path: 'x/' }]],
    [
      'a hardlink and a file',
      [
        { path: 't', content: 't' },
        { path: 'h', type: 'hardlink' as const, linkname: 't' },
        { path: 'h', content: 'h' },
      ],
    ],
    [
      '"./a" and "a"',
      [
        { path: './a', content: '1' },
        { path: 'a', content: '2' },
      ],
    ],
    [
      '"x/../a" and "a"',
      [
        { path: 'x/../a', content: '1' },
        { path: 'a', content: '2' },
      ],
    ],
  ])('refuses %s in the merge and in the reference model', async (_what, specs) => {
    await expect(flatSpecs(specs)).rejects.toMatchObject({ code: 'BAD_TAR', message: expect.stringMatching(/twice/) });
    await expect(imageView([memLayer(specs)])).rejects.toMatchObject({ code: 'BAD_TAR' });
  });

  it('accepts "/a" beside "a", the last one winning, as both engines do', async () => {
    const flat = await flatSpecs([
      { path: '/a', content: 'rooted' },
      { path: 'a', content: 'relative' },
    ]);
    expect(flat.get('a')).toMatchObject({ content: 'relative' });
  });
});
