/** Whiteout and opaque-directory bugs users met in other flatteners (FIELD-NOTES.md). */
import { describe, expect, it } from 'vitest';
import { flatMem, flatSpecs, memLayer } from '../helpers/mem-layers.js';
import { imageView } from '../../src/verify/image-view.js';
import type { TarEntry } from '../../src/tar/entry.js';
import type { EntrySpec } from '../helpers/tar-builder.js';

/** A flat layer's entry as a spec to build a layer of (paths and types only). */
const specOf = ({ entry }: { entry: TarEntry }): EntrySpec => ({
  path: entry.type === 'dir' ? `${entry.path}/` : entry.path,
  type: entry.type,
  linkname: entry.linkname || undefined,
});

describe('whiteouts and opaque directories', () => {
  it('docker-squash#186, ggcr#1897: opaque whiteouts are applied — deleted directories stay deleted', async () => {
    const flat = await flatSpecs(
      [{ path: 'app/' }, { path: 'app/old/' }, { path: 'app/old/secret', content: 's' }],
      [{ path: 'app/' }, { path: 'app/.wh..wh..opq' }, { path: 'app/new', content: 'n' }],
    );
    expect([...flat.keys()]).toEqual(['app', 'app/new']);
  });

  it('ggcr#1623: no .wh..wh..opq (or any whiteout) file is left in the output', async () => {
    const flat = await flatSpecs(
      [{ path: 'd/' }, { path: 'd/x', content: 'x' }],
      [{ path: 'd/.wh..wh..opq' }, { path: 'd/.wh.x' }, { path: '.wh.gone' }],
    );
    expect([...flat.keys()].filter((p) => p.includes('.wh.'))).toEqual([]);
  });

  it('jwilder/docker-squash#23: a file re-added in a later layer is not deleted by an earlier whiteout', async () => {
    const flat = await flatSpecs([{ path: 'f', content: '1' }], [{ path: '.wh.f' }], [{ path: 'f', content: '3' }]);
    expect(flat.get('f')?.content).toBe('3');
  });

  it('docker-squash#42, jwilder#56: files deleted from a kept base do not reappear (--keep-base)', async () => {
    const base = [memLayer([{ path: 'root/' }, { path: 'root/.ssh/' }, { path: 'root/.ssh/id_rsa', content: 'KEY' }])];
    const { entries } = await flatMem(
      [memLayer([{ path: 'root/.ssh/.wh.id_rsa' }]), memLayer([{ path: 'app', content: 'a' }])],
      base,
    );
    expect(entries.map((e) => e.entry.path)).toEqual(['root/.ssh/.wh.id_rsa', 'app']); // markers first: tar order
  });

  it('docker-squash#253: a directory replaced by a file leaves only the file (docker load then works)', async () => {
    const flat = await flatSpecs(
      [{ path: 'conf/' }, { path: 'conf/a', content: 'a' }],
      [{ path: 'conf', content: 'now a file' }],
    );
    expect([...flat]).toEqual([['conf', { type: 'file', content: 'now a file', linkname: '' }]]);
  });

  it('stereoscope#694: a whiteout below a symlink deletes in its target, as docker and podman do', async () => {
    // What stereoscope's users met is engine behaviour (docs/engine-rules.md §1): the flat image
    // must show what the engines show, so the file goes and the symlink stays.
    const flat = await flatSpecs(
      [{ path: 'data/' }, { path: 'data/keep', content: 'k' }, { path: 'link', type: 'symlink', linkname: 'data' }],
      [{ path: 'link/.wh.keep' }],
    );
    expect(flat.has('data/keep')).toBe(false);
    expect(flat.get('link')).toMatchObject({ type: 'symlink', linkname: 'data' });
    expect(flat.get('data')?.type).toBe('dir');
  });

  it('an opaque marker removes a directory an earlier marker made, below a named one (found by unpack)', async () => {
    // Layer 2: "c/" (named), "c/c/.wh..wh..opq" (makes c/c), then the root's marker: it keeps c,
    // named before it, but not c/c, which no entry names (engine-rules §7 row 4''). The flat
    // layer kept c/c's marker, and with it an empty c/c the engines do not have.
    const specs = [[{ path: 'c/' }], [{ path: 'c/' }, { path: 'c/c/.wh..wh..opq' }, { path: '.wh..wh..opq' }]];
    const flat = await flatSpecs(...specs);
    expect([...flat.keys()]).toEqual(['c']);
    const view = await imageView(specs.map((l) => memLayer(l)));
    expect([...view.walk()].map(([p]) => p)).toEqual(['', 'c']);
  });

  it('a lower opaque marker does not remove the directory an upper whiteout made (found by unpack)', async () => {
    // Layer 1's marker makes b, layer 2's whiteout b/c (engines make its missing parents).
    // Written top-down, the flat layer held "b/c/.wh.c" and then "b/.wh..wh..opq", which
    // removed b/c again; only the deepest marker is needed to make them both.
    const specs = [[{ path: 'b/.wh..wh..opq' }], [{ path: 'b/c/.wh.c' }]];
    const view = await imageView(specs.map((l) => memLayer(l)));
    expect([...view.walk()].map(([p]) => p)).toEqual(['', 'b', 'b/c']);
    const flat = await imageView([memLayer((await flatMem(specs.map((l) => memLayer(l)))).entries.map(specOf))]);
    expect([...flat.walk()].map(([p]) => p)).toEqual(['', 'b', 'b/c']);
  });

  it('a bare ".wh." is an error, not a silent deletion', async () => {
    await expect(flatSpecs([{ path: 'a', content: 'a' }], [{ path: 'dir/.wh.' }])).rejects.toMatchObject({
      code: 'BAD_PATH',
    });
  });
});
