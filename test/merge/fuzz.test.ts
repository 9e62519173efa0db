/**
 * Fuzzing the merge with layers no builder writes: a small alphabet of names so that paths
 * collide, nest under files and symlinks, repeat in one layer, get whited out before and after
 * they are written, hardlinks to anything (or nothing), rooted and climbing names. The flat layer
 * (planned exactly when the one-pass plan asks) is either refused with a LayerflatError or, read
 * back, the same filesystem the reference model (engine/fs-tree.ts) makes of the layers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FsTree } from '../../src/engine/fs-tree.js';
import { LayerflatError, type ErrorCode } from '../../src/errors.js';
import type { LayerTar } from '../../src/layers/layer-tar.js';
import { readTar } from '../../src/tar/reader.js';
import { fuzz, fuzzRuns, fuzzTimeout, Outcomes, outcome, withinTime } from '../helpers/fuzz.js';
import { flatMem, memLayer } from '../helpers/mem-layers.js';
import { rechunk } from '../helpers/rechunk.js';
import type { EntrySpec } from '../helpers/tar-builder.js';

const FILE = 'test/merge/fuzz.test.ts';
const CODES: readonly ErrorCode[] = ['BAD_TAR', 'BAD_PATH', 'UNSUPPORTED'];

const NAME = fc.constantFrom('a', 'b', 'c', 'a/b', 'a/c', 'b/a', 'a/b/c', 'c/a');
const PREFIX = fc.constantFrom('', '', '', '', '/', './');

const entry: fc.Arbitrary<EntrySpec> = fc.oneof(
  fc
    .tuple(PREFIX, NAME, fc.nat(3), fc.constantFrom(0o644, 0o600, 0o755))
    .map(([pre, p, n, mode]) => ({ path: pre + p, content: `v${n}`, mode })),
  fc.tuple(PREFIX, NAME).map(([pre, p]) => ({ path: `${pre}${p}/` })),
  fc
    .tuple(NAME, fc.oneof(NAME, fc.constantFrom('/a', '../b', '.', 'nowhere')))
    .map(([p, to]) => ({ path: p, type: 'symlink' as const, linkname: to })),
  fc
    .tuple(NAME, NAME, fc.constantFrom(0o644, 0o600), fc.constantFrom(0, 7))
    .map(([p, to, mode, uid]) => ({ path: p, type: 'hardlink' as const, linkname: to, mode, uid })),
  NAME.map((p) => ({ path: p.replace(/([^/]+)$/, '.wh.$1') })),
  fc.constantFrom('', 'a/', 'b/', 'a/b/').map((d) => ({ path: `${d}.wh..wh..opq` })),
);

const layers = fc.array(fc.array(entry, { maxLength: 7 }), { minLength: 1, maxLength: 4 });

/** What a path shows: type and content, owner, and for files the mode (a symlink's mode is always 0777). */
interface Shown {
  what: string;
  uid: number;
  mode?: number;
}

const shownLine = (v: Shown) => `${v.what} ${v.uid}${v.mode === undefined ? '' : ` ${v.mode.toString(8)}`}`;

/**
 * An entry (or whiteout) whose parent is, when it is applied, not a directory: the engines refuse
 * the layer ("not a directory"), or write through a symlink parent — which neither the reference
 * model nor the merge does (a known gap, FIELD-NOTES.md), so such inputs are not compared.
 */
function underNonDirectory(tree: FsTree<Shown>, path: string): boolean {
  const parts = path.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const node = tree.lookup(parts.slice(0, i).join('/'));
    if (!node) return false;
    if (!node.isDir) return true;
  }
  return false;
}

/** The filesystem the reference model makes of `tars` (bottom first): a line per path. */
async function view(tars: LayerTar[]): Promise<string[]> {
  // A hardlink header sets the owner of the file it names, and its mode unless that is a symlink
  // (the engines lchown it and skip the chmod).
  const tree = new FsTree<Shown>({
    onLink: (file, link) => {
      file.uid = link.uid;
      if (file.mode !== undefined) file.mode = link.mode;
    },
  });
  for (const [i, layer] of tars.entries()) {
    tree.startLayer(i);
    for await (const item of layer.entries()) {
      const chunks: Buffer[] = [];
      for await (const c of item.body()) chunks.push(Buffer.from(c));
      const e = item.entry;
      if (underNonDirectory(tree, e.path)) throw new LayerflatError('BAD_TAR', `"${e.path}" is under a non-directory`);
      // the engines remove what is at a path before they write it: a hardlink into itself has no target then
      if (e.type === 'hardlink' && `${e.linkname}/`.startsWith(`${e.path}/`)) {
        throw new LayerflatError('BAD_TAR', `hardlink "${e.path}" points into itself`);
      }
      const type = e.type === 'hardlink' ? 'file' : e.type;
      const what = `${type}:${Buffer.concat(chunks).toString()}${e.type === 'symlink' ? `->${e.linkname}` : ''}`;
      const value: Shown = { what, uid: e.uid, ...(e.type === 'symlink' || e.type === 'dir' ? {} : { mode: e.mode }) };
      tree.apply({ path: e.path, type: e.type, linkname: e.linkname, rooted: e.rooted, value });
    }
    tree.endLayer();
  }
  const lines: [string, string | undefined][] = [...tree.walk()].map(([p, n]) => [p, n.value && shownLine(n.value)]);
  const valued = lines.filter(([, v]) => v !== undefined).map(([p]) => p);
  // Implicit parents whose entries were all deleted cannot be carried by a flat layer.
  return lines
    .filter(([p, v]) => v !== undefined || valued.some((x) => x.startsWith(`${p}/`)))
    .map(([p, v]) => `${p} ${v ?? 'dir'}`);
}

describe('the merge under fuzzing', () => {
  const runs = fuzzRuns(400);
  it(
    `hostile layers: refused, or the reference model's filesystem (${runs} runs)`,
    { timeout: fuzzTimeout(runs, 20) },
    async () => {
      const tally = new Outcomes();
      const prop = fc.asyncProperty(layers, async (specs) => {
        const model = await outcome(() => view(specs.map((l) => memLayer(l))), CODES);
        const merged = await withinTime(
          outcome(() => flatMem(specs.map((l, i) => memLayer(l, `layer ${i}`))), CODES),
          5_000,
          'the merge',
        );
        // a refusal where the model (the engines, as far as it goes) loads the layers is counted apart
        tally.add(merged.ok || !model.ok ? merged : `${merged.error.code} (the model loads it)`);
        if (!merged.ok || !model.ok) return; // a layer the engines refuse may still merge: verify refuses it then
        const flat = await view([{ where: 'flat', entries: () => readTar(rechunk(merged.value.bytes, 'random', 7)) }]);
        expect(flat).toEqual(model.value);
      });
      await fuzz(FILE, 'merge: hostile layers against the reference model', prop, runs, tally);
    },
  );
});
