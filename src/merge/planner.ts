/**
 * The merge planner: decides, for every entry of every layer, whether it is in the flat layer.
 * Pure — it sees entry metadata only (path, type, link target), never bytes or files — so every
 * whiteout and hardlink rule can be unit-tested in memory.
 *
 * Layers are visited top-down (highest first). An entry is kept when nothing above hides it, so
 * the flat layer streams out in one pass per layer; a layer's own whiteouts and replacements are
 * recorded only when the layer ends, which is how a whiteout acts on lower layers alone,
 * wherever it stands in its tar.
 */
import { LayerflatError, withContext } from '../errors.js';
import { displayPath, type EntryType } from '../tar/entry.js';
import { metaOf, type MetaFields } from '../engine/meta.js';
import { ExactPlanNeeded, HardlinkGroups, type LayerEpilogue } from './hardlinks.js';
import {
  EMITTED,
  EMITTED_BELOW,
  EMITTED_DIR,
  IMPLIED,
  IN_LAYER,
  IN_LAYER_BELOW,
  IN_LAYER_ROOTED,
  OPAQUE,
  PathState,
  PRESENT,
  SEALED,
} from './path-state.js';
import { classifyWhiteout, duplicate, missingTarget, type HiddenReason } from '../engine/whiteout.js';

/** The metadata the planner needs of an entry. */
export interface PlanEntry extends MetaFields {
  path: string;
  type: EntryType;
  linkname: string;
  /** Bytes of data stored after the header (a tar entry's), when there are any. */
  dataSize?: number;
  /** The stored name was absolute (see TarEntry.rooted). */
  rooted?: boolean;
}

export type DropReason = HiddenReason | 'whiteout-marker' | 'storage-metadata';

/** The verdict on one entry, given in stream order. */
export type Decision =
  | { action: 'keep' } // copy it
  | { action: 'drop'; reason: DropReason }
  | { action: 'defer' } // a hardlink whose content name is settled when the layer ends
  | { action: 'defer-to-end' }; // a hardlink into a lower layer, written after every layer

export { ExactPlanNeeded, type LayerEpilogue } from './hardlinks.js';

/** Tracks one layer's pending work so `endLayer` can apply it. */
interface LayerScratch {
  index: number;
  where: string;
  // Entries at paths (directory or not): parallel arrays rather than an object per entry,
  // since a layer can hold hundreds of thousands.
  changedPaths: string[];
  changedIsDir: boolean[];
  whiteouts: string[];
  opaques: string[];
  keptPaths: string[];
  keptIsDir: boolean[];
  /** The paths this layer has entries below so far (their IN_LAYER_BELOW bits are cleared at its end). */
  parents: string[];
  /** The hardlinks written at the layer's (or the merge's) end, out of their place in the tar, and their targets. */
  heldLinks: Set<string>;
  heldTargets: Set<string>;
  links: HardlinkGroups;
}

/** A hardlink into a lower layer, waiting for its target to be written. */
interface CrossLayerLink {
  key: number;
  layer: number;
  path: string;
  target: string;
  where: string;
}

export class MergePlanner {
  readonly state = new PathState();

  /**
   * `exact`: the entries come from the exact plan (merge/exact.ts), already saying what the
   * flat layer must: never ask for it again.
   */
  constructor(private readonly options: { exact?: boolean } = {}) {}
  private layer: LayerScratch | undefined;
  private readonly crossLinks: CrossLayerLink[] = [];
  /**
   * For each cross-layer link target: the index of the layer that emitted it, once one has
   * (-1 before). Only targets are tracked, not every emitted path.
   */
  private readonly targetEmittedBy = new Map<string, number>();

  /** Begin a layer; layers must come highest first. `where` names it in messages. */
  startLayer(index: number, where: string): void {
    if (this.layer) throw new Error('startLayer before endLayer');
    this.layer = {
      index,
      where,
      changedPaths: [],
      changedIsDir: [],
      whiteouts: [],
      opaques: [],
      keptPaths: [],
      keptIsDir: [],
      parents: [],
      heldLinks: new Set(),
      heldTargets: new Set(),
      links: new HardlinkGroups(),
    };
  }

  /**
   * Decide one entry. `ordinal` is its position in the layer's tar (0-based); deferred entries
   * are identified by it in the layer's epilogue. `key` identifies a defer-to-end link in `finish`.
   */
  visit(entry: PlanEntry, ordinal: number, key = ordinal): Decision {
    const layer = this.current();
    const wh = classifyWhiteout(entry.path);
    if (wh.kind === 'whiteout') return (layer.whiteouts.push(wh.target), drop('whiteout-marker'));
    if (wh.kind === 'opaque') return (layer.opaques.push(wh.dir), drop('whiteout-marker'));
    if (wh.kind === 'aufs-meta') return drop('storage-metadata');

    if (!this.state.noteInLayer(entry.path, entry.rooted ? IN_LAYER_ROOTED : IN_LAYER)) throw duplicate(entry.path);
    // the same path again, spelt "/a" beside "a": after a held hardlink there (or to there), it would come first
    if (layer.heldLinks.has(entry.path) || layer.heldTargets.has(entry.path)) throw replacesHeldLink(entry.path);
    if (entry.type !== 'dir' && this.state.get(entry.path) & IN_LAYER_BELOW && this.replacingMatters(layer, entry)) {
      throw replacesOwnDirectory(entry);
    }
    this.state.markAncestors(entry.path, IN_LAYER_BELOW, layer.parents);
    layer.changedPaths.push(entry.path);
    layer.changedIsDir.push(entry.type === 'dir');
    const hidden = this.state.hiddenBy(entry.path, entry.type === 'dir');
    if (entry.type !== 'hardlink') {
      layer.links.addContent(entry.path, ordinal, entry.type, hidden === undefined);
      if (hidden) return drop(hidden);
      this.markEmitted(entry.path, entry.type);
      return { action: 'keep' };
    }
    return this.visitHardlink(layer, entry, ordinal, key, hidden);
  }

  private visitHardlink(
    layer: LayerScratch,
    entry: PlanEntry,
    ordinal: number,
    key: number,
    hidden: HiddenReason | undefined,
  ): Decision {
    const group = layer.links.join(entry.path, entry.linkname, ordinal, hidden !== undefined, metaOf(entry));
    if (hidden && !group && metaOf(entry) && !this.options.exact) {
      // Its header changed the lower file's owner or mode, and no name of this layer is left to say so.
      throw new ExactPlanNeeded(`the hidden hardlink "${entry.path}" into a lower layer set its target's metadata`);
    }
    if (hidden) return drop(hidden);
    if (!group) {
      // Engines write both names of a file into the same layer; a link into a lower layer is
      // only safe if the target is still the file it was, which we learn once all layers ran.
      if (this.state.get(entry.linkname) & (PRESENT | SEALED)) throw crossLayerChanged(entry);
      this.crossLinks.push({ key, layer: layer.index, path: entry.path, target: entry.linkname, where: layer.where });
      this.watchTarget(layer, entry.linkname);
      this.markEmitted(entry.path, entry.type);
      this.hold(layer, entry);
      return { action: 'defer-to-end' };
    }
    this.markEmitted(entry.path, entry.type);
    this.hold(layer, entry);
    return { action: 'defer' }; // every name of the file is written when the layer ends
  }

  /**
   * End the current layer: apply its whiteouts, opaque markers and replacements to what lower
   * layers will see, and say which deferred hardlinks to write now and under which names.
   */
  endLayer(): LayerEpilogue {
    const layer = this.current();
    for (const [i, path] of layer.changedPaths.entries()) {
      this.state.forget(path, IN_LAYER | IN_LAYER_ROOTED);
      this.state.set(path, layer.changedIsDir[i] ? PRESENT : PRESENT | SEALED);
      this.state.markAncestors(path, IMPLIED);
    }
    for (const path of layer.parents) this.state.forget(path, IN_LAYER_BELOW);
    for (const t of layer.whiteouts) this.state.set(t, SEALED);
    for (const d of layer.opaques) this.state.set(d, OPAQUE);
    for (const [i, path] of layer.keptPaths.entries()) {
      this.state.set(path, layer.keptIsDir[i] ? EMITTED | EMITTED_DIR : EMITTED);
      this.state.markAncestors(path, EMITTED_BELOW);
    }
    this.layer = undefined;
    return layer.links.epilogue(this.options.exact === true);
  }

  /**
   * After the last layer: the keys of the cross-layer hardlinks to write now (their targets are
   * in the output, unchanged). Throws UNSUPPORTED for one whose target a later layer changed.
   */
  finish(): number[] {
    if (this.layer) throw new Error('finish before endLayer');
    const links = this.crossLinks.map((l) => {
      const from = this.targetEmittedBy.get(l.target) ?? -1;
      const f = this.state.get(l.target);
      // No file there when the link's layer was applied: the engines refuse the layer, as verify does.
      if (from < 0 || !(f & EMITTED) || f & EMITTED_DIR) throw withContext(missingTarget(l.path, l.target), l.where);
      if (from >= l.layer) throw withContext(crossLayerChanged({ path: l.path, linkname: l.target }), l.where);
      return l;
    });
    // Bottom-up, as the engines apply them: a link's header sets the file's owner and mode, the last one winning.
    return links.sort((a, b) => a.layer - b.layer || a.key - b.key).map((l) => l.key);
  }

  /**
   * Whether a non-directory replacing a directory this layer wrote into changes what the flat
   * layer must hold: a layer above makes the path a directory again (the entries written into it
   * would show), or a held hardlink of this layer is in it or points into it (it is written after them).
   */
  private replacingMatters(layer: LayerScratch, entry: PlanEntry): boolean {
    const under = `${entry.path}/`;
    const into = (p: string) => p.startsWith(under);
    return this.state.reopened(entry.path) || [...layer.heldTargets].some(into) || [...layer.heldLinks].some(into);
  }

  private hold(layer: LayerScratch, entry: PlanEntry): void {
    layer.heldLinks.add(entry.path);
    layer.heldTargets.add(entry.linkname);
  }

  /** Record a kept entry; its flags reach the state at layer end, so same-layer entries stay equal. */
  private markEmitted(path: string, type: EntryType): void {
    const layer = this.current();
    layer.keptPaths.push(path);
    layer.keptIsDir.push(type === 'dir');
    if (this.targetEmittedBy.get(path) === -1) this.targetEmittedBy.set(path, layer.index);
  }

  /**
   * Start tracking which layer emits `target`. One already emitted — by a layer above (its flags
   * are in the state) or earlier in this one — counts as emitted here or above, which `finish`
   * refuses, as it would the real layer index.
   */
  private watchTarget(layer: LayerScratch, target: string): void {
    if (this.targetEmittedBy.has(target)) return;
    const before = this.state.get(target) & EMITTED || layer.keptPaths.includes(target);
    this.targetEmittedBy.set(target, before ? layer.index : -1);
  }

  private current(): LayerScratch {
    if (!this.layer) throw new Error('visit outside startLayer/endLayer');
    return this.layer;
  }
}

function drop(reason: DropReason): Decision {
  return { action: 'drop', reason };
}

/**
 * A non-directory replacing a directory its own layer wrote entries into, earlier in the tar. The
 * engines apply entries in order, so those entries are gone; the one-pass plan has written them
 * by then, which is harmless (the flat layer keeps both in their order, and the engines drop them
 * again) unless a layer above makes the path a directory again or a hardlink of the layer, written
 * at its end, is in it or points into it. No builder makes such a layer: it is refused, never merged wrong.
 */
function replacesOwnDirectory(e: { path: string; type: EntryType }): LayerflatError {
  return new LayerflatError(
    'UNSUPPORTED',
    `the layer writes entries under "${displayPath(e.path)}" and then replaces that directory with a ${e.type}, ` +
      'which engines apply as deleting them; layerflat does not merge such a layer when a layer above ' +
      'makes it a directory again or a hardlink is in it or points into it',
  );
}

function replacesHeldLink(path: string): LayerflatError {
  return new LayerflatError(
    'UNSUPPORTED',
    `the layer writes "${displayPath(path)}" again (once as an absolute name) after a hardlink at it or to it; ` +
      'layerflat writes hardlinks at the end of their layer and does not merge such a layer',
  );
}

function crossLayerChanged(e: { path: string; linkname: string }): LayerflatError {
  return new LayerflatError(
    'UNSUPPORTED',
    `hardlink "${displayPath(e.path)}" points to "${displayPath(e.linkname)}" outside its layer, ` +
      'and that target is not the same file in the flat image',
  );
}
