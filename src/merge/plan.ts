/**
 * The merge as a plan: drive the planner over the layers (top-down, each read once, again only
 * for a hardlink whose content needs a new name) and yield what the flat layer holds, in order,
 * as actions. Bytes and size are two small folds over the plan (output.ts); nothing here touches
 * bytes, so the same driver serves the byte stream, the size calculation and the tests that run
 * the planner over layers held in memory.
 */
import { withContext } from '../errors.js';
import { belowBaseNonDir, whiteoutsForBase } from './base-whiteouts.js';
import type { EntryMeta } from '../engine/meta.js';
import { ExactPlanNeeded, MergePlanner, type DropReason, type PlanEntry } from './planner.js';
import { EMITTED, EMITTED_BELOW, type PathState } from './path-state.js';

/** What the plan needs of an entry of a layer: its metadata (a tar reader's item has it). */
export interface PlanItem {
  readonly entry: PlanEntry;
}

/** A layer as the plan reads it: entries that can be read again from the start. */
export interface PlanLayer<I extends PlanItem> {
  /** Names the layer in messages. */
  readonly where: string;
  entries(): AsyncIterable<I>;
}

/** One step of the flat layer. Items are the layers' own; read an item's data before the next step. */
export type PlanAction<I extends PlanItem> =
  /** The entry as stored. */
  | { kind: 'keep'; item: I }
  /**
   * A file's content (a re-read item) written under the first surviving name of the file;
   * `meta`: what its header must set, when it is the last name of the file written.
   */
  | { kind: 'rehome'; item: I; path: string; meta?: EntryMeta }
  /** A hardlink held back until its layer ended, pointing at `linkname` (`meta` as for rehome). */
  | { kind: 'link'; item: I; linkname: string; meta?: EntryMeta }
  /** A hardlink into a lower layer, written after every layer (its target is then written). */
  | { kind: 'cross-link'; item: I }
  /**
   * A whiteout or opaque marker (an empty file named .wh.*): --keep-base's, before any entry, or
   * one kept at the end for the directory the engines create for it (MergePlanner.finish).
   */
  | { kind: 'marker'; path: string }
  /** An entry that is not in the flat layer, and why. */
  | { kind: 'drop'; item: I; reason: DropReason }
  /** --dedupe: a file written as a hardlink to an identical one written before (merge/dedupe.ts). */
  | { kind: 'dedupe'; item: I; linkname: string; mtime: number };

export interface PlanOptions {
  /** --keep-base: the whiteouts the squashed layer opens with, and what the base holds (`baseMarkers`). */
  base?: BaseScan;
  /** Called when a layer starts (layers start top-down), for progress. */
  onLayer?: (layerIndex: number) => void;
  /** The planner to drive (its state afterwards is what the flat layer holds). */
  planner?: MergePlanner;
  /** The entries come from the exact plan (merge/exact.ts): the planner must not ask for it. */
  exact?: boolean;
}

/** The plan of the flat layer of `layers` (bottom first). */
export async function* planMerge<I extends PlanItem>(
  layers: readonly PlanLayer<I>[],
  options: PlanOptions = {},
): AsyncGenerator<PlanAction<I>> {
  for (const path of options.base?.markers ?? []) yield { kind: 'marker', path };
  const planner = options.planner ?? new MergePlanner({ exact: options.exact });
  const crossLinks = new Map<number, I>();
  let key = 0;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    options.onLayer?.(i);
    planner.startLayer(i, layer.where);
    const deferred = new Map<number, I>();
    let ordinal = 0;
    for await (const item of layer.entries()) {
      let decision;
      try {
        decision = planner.visit(item.entry, ordinal, key);
      } catch (err) {
        throw withContext(err, layer.where);
      }
      if (decision.action === 'keep') yield { kind: 'keep', item };
      else if (decision.action === 'drop') yield { kind: 'drop', item, reason: decision.reason };
      else if (decision.action === 'defer') deferred.set(ordinal, item);
      else crossLinks.set(key++, item);
      ordinal++;
    }
    const { rehome, links, meta } = planner.endLayer();
    if (rehome.size > 0) yield* rehomed(layer, rehome, meta);
    for (const [ord, linkname] of [...links].sort((a, b) => a[0] - b[0])) {
      yield { kind: 'link', item: deferred.get(ord)!, linkname, ...withMeta(meta.get(ord)) };
    }
  }
  const { links, markers } = planner.finish(options.base?.holds);
  for (const k of links) yield { kind: 'cross-link', item: crossLinks.get(k)! };
  for (const path of markers) yield { kind: 'marker', path };
}

/** --keep-base: what the plan needs of the kept base. */
export interface BaseScan {
  /** The whiteouts the squashed layer opens with. */
  markers: readonly string[];
  /** Whether the base (as its layers merge) has something at `path`. */
  holds(path: string): boolean;
}

/**
 * --keep-base: the whiteouts the squashed layer must open with to delete, from the kept `base`,
 * what the `squashed` layers deleted (both read as headers). Asks for the exact plan (unless
 * `exact`: the layers already come from it) when a base layer is one the one-pass plan cannot
 * read, or the squashed layers wrote below a base file or symlink.
 */
export async function baseMarkers<I extends PlanItem>(
  base: readonly PlanLayer<I>[],
  squashed: readonly PlanLayer<I>[],
  exact: boolean,
): Promise<BaseScan> {
  const baseState = await scanLayers(base, { checked: !exact });
  const squashedState = await scanLayers(squashed, { checked: !exact });
  const below = exact ? undefined : belowBaseNonDir(squashedState, baseState);
  if (below !== undefined) throw new ExactPlanNeeded(`the squashed layers write below "${below}" of the kept base`);
  const markers = whiteoutsForBase(squashedState, baseState);
  return { markers, holds: (path) => (baseState.get(path) & (EMITTED | EMITTED_BELOW)) !== 0 };
}

/** Read a layer again and give each listed content entry its new name. */
async function* rehomed<I extends PlanItem>(
  layer: PlanLayer<I>,
  rehome: Map<number, string>,
  meta: Map<number, EntryMeta>,
): AsyncGenerator<PlanAction<I>> {
  const last = Math.max(...rehome.keys());
  let ordinal = 0;
  for await (const item of layer.entries()) {
    const path = rehome.get(ordinal);
    if (path !== undefined) yield { kind: 'rehome', item, path, ...withMeta(meta.get(ordinal)) };
    if (ordinal++ === last) break;
  }
}

function withMeta(meta: EntryMeta | undefined): { meta?: EntryMeta } {
  return meta ? { meta } : {};
}

/**
 * What a merge of `layers` (bottom first) contains. `checked`: refuse what the engines refuse and
 * ask for the exact plan where a name may land elsewhere, as the plan does. Entry data is skipped.
 */
async function scanLayers<I extends PlanItem>(
  layers: readonly PlanLayer<I>[],
  options: { checked?: boolean } = {},
): Promise<PathState> {
  // Only what the layers hold matters here, not how to write it.
  const planner = new MergePlanner({ exact: !options.checked, scanOnly: true });
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    planner.startLayer(i, layer.where);
    let ordinal = 0;
    for await (const item of layer.entries()) {
      try {
        planner.visit(item.entry, ordinal++);
      } catch (err) {
        throw withContext(err, layer.where);
      }
    }
    planner.endLayer();
  }
  return planner.state;
}
