/**
 * Runs the production plan driver (merge/plan.ts) over in-memory layers and replays its output
 * onto an FsTree — so planner tests need no bytes at all, and test the code flatten runs.
 */
import type { EntryOverride } from '../../src/engine/model.js';
import { exactOverrides, overridden } from '../../src/merge/exact.js';
import { baseMarkers, planMerge, type PlanAction, type PlanLayer } from '../../src/merge/plan.js';
import { ExactPlanNeeded } from '../../src/merge/planner.js';
import type { PlanEntry } from '../../src/merge/planner.js';
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

/** In-memory items carry their origin, so the output says where each entry came from. */
interface MemItem {
  entry: Spec;
  origin: Origin;
}

/** `layers` as the production plan driver reads layers: re-readable entries (here from arrays). */
function memLayers(layers: Spec[][]): PlanLayer<MemItem>[] {
  // Each layer's entries as they would come from a tar: one path per name.
  return layers.map((entries, i) => ({
    where: `layer ${i}`,
    async *entries() {
      for (const [ordinal, entry] of entries.entries()) yield { entry, origin: { layer: i, ordinal } };
    },
  }));
}

/** The flat layer's entries, from the production plan (merge/plan.ts) over `layers`. */
async function collect(plan: AsyncIterable<PlanAction<MemItem>>): Promise<OutEntry[]> {
  const out: OutEntry[] = [];
  for await (const a of plan) {
    if (a.kind === 'drop') continue;
    if (a.kind === 'marker') out.push({ ...f(a.path), origin: NO_ORIGIN });
    else if (a.kind === 'rehome') out.push({ ...a.item.entry, path: a.path, origin: a.item.origin });
    else if (a.kind === 'link') out.push({ ...a.item.entry, linkname: a.linkname, origin: a.item.origin });
    else out.push({ ...a.item.entry, origin: a.item.origin });
  }
  return out;
}

/** A spec as an override says it must be written (see merge/exact.ts). */
function rewriteMem(item: MemItem, o: EntryOverride): MemItem {
  const entry = {
    ...item.entry,
    path: o.path ?? item.entry.path,
    linkname: o.linkname ?? item.entry.linkname,
    ...(o.holdsContent ? { mustKeep: true } : {}),
  };
  return { ...item, entry: o.meta ? { ...entry, ...o.meta } : entry };
}

/**
 * Run the production plan over `layers[keep…]` (bottom first; `base` state from `layers[…keep]`)
 * — planned exactly, from the engines' model, when the one-pass plan asks for it, as flatten does.
 */
async function planned(layers: Spec[][], keep: number): Promise<OutEntry[]> {
  const run = async (source: PlanLayer<MemItem>[], exact: boolean) => {
    const base = keep > 0 ? await baseMarkers(source.slice(0, keep), source.slice(keep), exact) : undefined;
    return collect(planMerge(source.slice(keep), { base, exact }));
  };
  try {
    return await run(memLayers(layers), false);
  } catch (err) {
    if (!(err instanceof ExactPlanNeeded)) throw err;
    const overrides = await exactOverrides(memLayers(layers), keep);
    return run(
      memLayers(layers).map((l, i) => overridden(l, overrides.get(i), rewriteMem)),
      true,
    );
  }
}

/** Whether the one-pass plan of `layers` (keeping `keep` base layers) asks for the exact plan. */
export async function needsExactPlan(layers: Spec[][], keep = 0): Promise<boolean> {
  const source = memLayers(layers);
  try {
    const base = keep > 0 ? await baseMarkers(source.slice(0, keep), source.slice(keep), false) : undefined;
    await collect(planMerge(source.slice(keep), { base }));
    return false;
  } catch (err) {
    if (err instanceof ExactPlanNeeded) return true;
    throw err;
  }
}

/** Run the production plan over `layers` (bottom first) and return the flat layer's entries in order. */
export function plan(layers: Spec[][]): Promise<OutEntry[]> {
  return planned(layers, 0);
}

/**
 * --keep-base: keep layers [0, keep) and squash the rest; returns the squashed layer's entries,
 * whiteouts included (markers carry no origin: whiteouts vanish when applied, a made-up
 * directory stands for an implicit one).
 */
export function planKeepBase(layers: Spec[][], keep: number): Promise<OutEntry[]> {
  return planned(layers, keep);
}

/** The filesystem an engine builds from `layers`: path → "dir|file@layer:ordinal" lines. */
export function engineView(layers: Spec[][], applied: (Spec & { origin?: Origin })[][] = layers): string[] {
  const tree = new FsTree<Origin>();
  applied.forEach((entries, i) => {
    tree.startLayer(i);
    entries.forEach((e, ordinal) => tree.apply({ ...e, value: e.origin ?? { layer: i, ordinal } }));
    tree.endLayer();
  });
  return describe(tree, layers);
}

/** The filesystem extracting the flat layer gives, in the same notation. */
export function flatView(out: OutEntry[], layers: Spec[][]): string[] {
  const tree = new FsTree<Origin>();
  tree.startLayer(0);
  for (const e of out) tree.apply({ ...e, value: e.origin });
  tree.endLayer();
  return describe(tree, layers);
}

function describe(tree: FsTree<Origin>, layers: Spec[][]): string[] {
  const lines: [string, string][] = [];
  for (const [path, node] of tree.walk()) {
    const v = node.value === NO_ORIGIN ? undefined : node.value;
    const src = v ? layers[v.layer]![v.ordinal]! : undefined;
    const at = v ? `@${v.layer}:${v.ordinal}` : '';
    const what = `${node.isDir ? 'dir' : src?.type}${at}${src?.type === 'symlink' ? `->${src.linkname}` : ''}`;
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
