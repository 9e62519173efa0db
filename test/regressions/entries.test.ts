/** Entries other flatteners lost or mangled (FIELD-NOTES.md). */
import { describe, expect, it } from 'vitest';
import { flatMem, flatSpecs, memLayer } from '../helpers/mem-layers.js';
import { utf8 } from '../helpers/tar-builder.js';

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
