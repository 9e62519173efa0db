/**
 * Drives MergePlanner over in-memory layers the way merge-stream drives it over tars, and
 * replays its output onto an FsTree — so planner tests need no bytes at all.
 */
import { whiteoutsForBase } from '../../src/merge/base-whiteouts.js';
import { MergePlanner, type PlanEntry } from '../../src/merge/planner.js';
import { FsTree } from '../../src/engine/fs-tree.js';

/** An entry spec: path, type and (for links) target. */
export type Spec = PlanEntry;

/** Where an output entry's content came from. */
export interface Origin {
  layer: number;
  ordinal: number;
}

const NO_ORIGIN: Origin = { layer: -1, ordinal: -1 };

export interface OutEntry extends Spec {
  origin: Origin;
}

export const f = (path: string): Spec => ({ path, type: 'file', linkname: '' });
export const d = (path: string): Spec => ({ path, type: 'dir', linkname: '' });
export const sym = (path: string, to: string): Spec => ({ path, type: 'symlink', linkname: to });
export const hl = (path: string, to: string): Spec => ({ path, type: 'hardlink', linkname: to });
export const wh = (path: string): Spec => f(path.replace(/([^/]+)$/, '.wh.$1'));
export const opq = (dir: string): Spec => f(dir === '' ? '.wh..wh..opq' : `${dir}/.wh..wh..opq`);

/** Run the planner over `layers` (bottom first) and return the flat layer's entries in order. */
export function plan(layers: Spec[][], planner = new MergePlanner()): OutEntry[] {
  const out: OutEntry[] = [];
  const cross = new Map<number, OutEntry>();
  let key = 0;
  for (let i = layers.length - 1; i >= 0; i--) {
    planner.startLayer(i, `layer ${i}`);
    const deferred = new Map<number, OutEntry>();
    layers[i]!.forEach((e, ordinal) => {
      const dec = planner.visit(e, ordinal, key);
      const o = { ...e, origin: { layer: i, ordinal } };
      if (dec.action === 'keep') out.push(dec.linkname === undefined ? o : { ...o, linkname: dec.linkname });
      if (dec.action === 'defer') deferred.set(ordinal, o);
      if (dec.action === 'defer-to-end') cross.set(key++, o);
    });
    const { rehome, links } = planner.endLayer();
    for (const [ordinal, path] of [...rehome].sort((a, b) => a[0] - b[0])) {
      out.push({ ...layers[i]![ordinal]!, path, origin: { layer: i, ordinal } });
    }
    for (const [ordinal, linkname] of [...links].sort((a, b) => a[0] - b[0])) {
      out.push({ ...deferred.get(ordinal)!, linkname });
    }
  }
  for (const k of planner.finish()) out.push(cross.get(k)!);
  return out;
}

/**
 * --keep-base: keep layers [0, keep) and squash the rest; returns the squashed layer's entries,
 * whiteouts included (origin: the layer index `layers.length`, i.e. none).
 */
export function planKeepBase(layers: Spec[][], keep: number): OutEntry[] {
  const base = new MergePlanner();
  for (let i = keep - 1; i >= 0; i--) {
    base.startLayer(i, `base ${i}`);
    layers[i]!.forEach((e, ordinal) => base.visit(e, ordinal));
    base.endLayer();
  }
  const squash = new MergePlanner();
  const out = plan(layers.slice(keep), squash).map((e) => ({
    ...e,
    origin: { ...e.origin, layer: e.origin.layer + keep },
  }));
  // Markers carry no origin: whiteouts vanish when applied, a made-up directory stands for an implicit one.
  for (const m of whiteoutsForBase(squash.state, base.state))
    out.push({ ...(m.type === 'dir' ? d(m.path) : f(m.path)), origin: NO_ORIGIN });
  return out;
}

/** The filesystem an engine builds from `layers`: path → "dir|file@layer:ordinal" lines. */
export function engineView(layers: Spec[][], applied: (Spec & { origin?: Origin })[][] = layers): string[] {
  const tree = new FsTree<Origin>();
  applied.forEach((entries, i) => {
    tree.startLayer(i);
    entries.forEach((e, ordinal) => tree.apply({ ...e, value: e.origin ?? { layer: i, ordinal } }, `layer ${i}`));
    tree.endLayer();
  });
  return describe(tree, layers);
}

/** The filesystem extracting the flat layer gives, in the same notation. */
export function flatView(out: OutEntry[], layers: Spec[][]): string[] {
  const tree = new FsTree<Origin>();
  tree.startLayer(0);
  for (const e of out) tree.apply({ ...e, value: e.origin }, 'flat');
  tree.endLayer();
  return describe(tree, layers);
}

function describe(tree: FsTree<Origin>, layers: Spec[][]): string[] {
  const lines: [string, string][] = [];
  for (const [path, node] of tree.walk()) {
    const v = node.value === NO_ORIGIN ? undefined : node.value;
    const src = v ? layers[v.layer]![v.ordinal]! : undefined;
    const what = `${node.isDir ? 'dir' : src?.type}${v ? `@${v.layer}:${v.ordinal}` : ''}${src?.type === 'symlink' ? `->${src.linkname}` : ''}`;
    lines.push([path, v ? what : '']);
  }
  // An implicit parent (no entry of its own) whose entries were all deleted has nothing that
  // could carry it into a flat layer; real layers always hold their parent directories.
  const valued = lines.filter(([, w]) => w !== '').map(([p]) => p);
  return lines
    .filter(([p, w]) => w !== '' || (p !== '' && valued.some((v) => v.startsWith(p + '/'))))
    .map(([p, w]) => `${p || '.'} ${w || 'dir'}`);
}

/** Check every output hardlink points at a name written earlier in the output. */
export function linksPointBackwards(out: OutEntry[]): boolean {
  const seen = new Set<string>();
  for (const e of out) {
    if (e.type === 'hardlink' && !seen.has(e.linkname)) return false;
    seen.add(e.path);
  }
  return true;
}
