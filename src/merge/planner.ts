/**
 * The merge planner: decides, for every entry of every layer, whether it is in the flat layer.
 * Pure — it sees entry metadata only (path, type, link target), never bytes or files — so every
 * whiteout and hardlink rule can be unit-tested in memory.
 *
 * Layers are visited top-down (highest first). An entry is kept when nothing above hides it, so
 * the flat layer streams out in one pass per layer; a layer's own whiteouts and replacements are
 * recorded only when the layer ends, so they act on lower layers. Engines apply a layer in tar
 * order (a whiteout after an entry of its own layer removes it too, docs/engine-rules.md §7);
 * the checks below find every such case, and the few symlinks one pass cannot follow, and ask
 * for the exact plan (merge/exact.ts), whose entries already say what the engines made.
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
  IN_LAYER_FILE,
  IN_LAYER_ROOTED,
  IN_LAYER_SYMLINK,
  IN_LAYER_GONE,
  IN_LAYER_UNREPLACED,
  BELOW_UNREPLACED,
  MARKED_BELOW,
  OPAQUE,
  PathState,
  PRESENT,
  SEALED,
} from './path-state.js';
import {
  classifyWhiteout,
  duplicate,
  missingTarget,
  parentOf,
  unreachable,
  type HiddenReason,
} from '../engine/whiteout.js';

/** The metadata the planner needs of an entry. */
export interface PlanEntry extends MetaFields {
  path: string;
  type: EntryType;
  linkname: string;
  /** The stored name was absolute (see TarEntry.rooted). */
  rooted?: boolean;
  /** The exact plan moved a file's content here (EntryOverride.holdsContent): it must be kept. */
  mustKeep?: boolean;
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
  links: HardlinkGroups;
  /** Directories noted IN_LAYER_BELOW (cleared when the layer ends), and hardlink targets. */
  below: string[];
  linkTargets: string[];
  /** Whiteout and opaque markers (path, and the directory the engines create for each if missing). */
  markers: { path: string; dir: string }[];
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
   * flat layer must: never ask for it again. `scanOnly`: nothing planned is written (a scan of
   * kept base layers), so entries' metadata never needs it.
   */
  constructor(private readonly options: { exact?: boolean; scanOnly?: boolean } = {}) {}
  private layer: LayerScratch | undefined;
  private readonly crossLinks: CrossLayerLink[] = [];
  /**
   * For each cross-layer link target: the index of the layer that emitted it, once one has
   * (-1 before). Only targets are tracked, not every emitted path.
   */
  private readonly targetEmittedBy = new Map<string, number>();
  /** Markers whose directory no layer above (or their own) deleted. */
  private readonly markerDirs: { path: string; dir: string }[] = [];

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
      links: new HardlinkGroups(),
      below: [],
      linkTargets: [],
      markers: [],
    };
  }

  /**
   * Decide one entry. `ordinal` is its position in the layer's tar (0-based); deferred entries
   * are identified by it in the layer's epilogue. `key` identifies a defer-to-end link in `finish`.
   */
  visit(entry: PlanEntry, ordinal: number, key = ordinal): Decision {
    const layer = this.current();
    const wh = classifyWhiteout(entry.path);
    if (wh.kind === 'aufs-meta') return drop('storage-metadata');
    if (wh.kind === 'opaque') {
      if (!this.options.exact) {
        this.checkParents(layer, wh.dir);
        // Not followed: on a file or symlink of the layer, the marker does nothing (engines).
        if (this.state.get(wh.dir) & (IN_LAYER_FILE | IN_LAYER_SYMLINK)) return drop('whiteout-marker');
        this.checkOpaque(layer, wh.dir);
      }
      this.forgetMarkersUnder(layer, wh.dir);
      this.noteMarker(layer, entry.path, wh.dir);
      return (layer.opaques.push(wh.dir), drop('whiteout-marker'));
    }
    if (!this.options.exact) this.checkParents(layer, entry.path);
    if (wh.kind === 'whiteout') {
      if (!this.options.exact) this.checkWhiteout(wh.target);
      this.state.noteInLayer(wh.target, IN_LAYER_GONE);
      this.noteMarker(layer, entry.path, parentOf(wh.target) ?? '');
      return (layer.whiteouts.push(wh.target), drop('whiteout-marker'));
    }
    const named = this.state.get(entry.path) & (IN_LAYER | IN_LAYER_ROOTED);
    if (!this.state.noteInLayer(entry.path, entry.rooted ? IN_LAYER_ROOTED : IN_LAYER)) throw duplicate(entry.path);
    // "/a" after "a" (or the reverse) is one path the engines write twice, in tar order.
    if (named && !this.options.exact) throw new ExactPlanNeeded(`"${entry.path}" is written twice in its layer`);
    if (!this.options.exact) this.checkEntry(entry);
    layer.changedPaths.push(entry.path);
    layer.changedIsDir.push(entry.type === 'dir');
    const hidden = this.state.hiddenBy(entry.path, entry.type === 'dir');
    if (entry.type !== 'hardlink') {
      layer.links.addContent(entry.path, ordinal, entry.type, hidden === undefined);
      if (hidden && entry.mustKeep) throw contentLost(entry.path);
      if (hidden) return drop(hidden);
      this.markEmitted(entry.path, entry.type);
      return { action: 'keep' };
    }
    return this.visitHardlink(layer, entry, ordinal, key, hidden);
  }

  /**
   * One pass is exact as long as every name lands where it says, nothing a layer wrote is taken
   * away by a later entry of the same layer, and nothing was written below a path a lower layer
   * holds as a file or symlink. These checks find every case that breaks that, cheaply (a walk
   * up the parents that stops at the first one the layer has seen); the model (merge/exact.ts)
   * then plans exactly, or refuses what the engines refuse.
   */
  private checkParents(layer: LayerScratch, path: string): void {
    for (let a = parentOf(path); a !== undefined && a !== ''; a = parentOf(a)) {
      const f = this.state.get(a);
      if (f & IN_LAYER_BELOW) return;
      if (f & IN_LAYER_FILE) throw unreachable(path, `its parent "${a}" is a file this layer wrote`);
      if (f & IN_LAYER_SYMLINK) throw new ExactPlanNeeded(`"${path}" lies under a symlink of its own layer`);
      this.state.noteInLayer(a, IN_LAYER_BELOW);
      // Not made a directory (or deleted) by this layer first: what a lower layer has there counts.
      if (!(f & (IN_LAYER | IN_LAYER_ROOTED | IN_LAYER_GONE))) this.state.noteInLayer(a, IN_LAYER_UNREPLACED);
      layer.below.push(a);
    }
  }

  /** A whiteout of what its own layer wrote (there, or below) removes it: engines apply markers in tar order. */
  private checkWhiteout(target: string): void {
    if (this.state.get(target) & (IN_LAYER | IN_LAYER_ROOTED | IN_LAYER_BELOW)) {
      throw new ExactPlanNeeded(`a whiteout of "${target}" follows entries of its own layer there`);
    }
  }

  /**
   * An opaque marker keeps what its layer wrote before it only under names of its own: an entry
   * below a directory of the layer that has no entry goes with the lower contents.
   */
  private checkOpaque(layer: LayerScratch, dir: string): void {
    if (dir !== '' && !(this.state.get(dir) & IN_LAYER_BELOW)) return;
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const p of layer.changedPaths) {
      if (!p.startsWith(prefix)) continue;
      for (let a = parentOf(p); a !== undefined && a !== dir; a = parentOf(a)) {
        if (!(this.state.get(a) & IN_LAYER)) {
          throw new ExactPlanNeeded(`the opaque marker of "${dir}" follows "${p}", whose parent has no entry`);
        }
      }
    }
  }

  /**
   * The entry itself: one replacing what its layer wrote below it, or a lower file or symlink that
   * an upper layer wrote below before any layer between replaced it (a symlink to follow, or a
   * file the engines refuse to write below: the model tells which).
   */
  private checkEntry(entry: PlanEntry): void {
    const f = this.state.get(entry.path);
    const isDir = entry.type === 'dir';
    if (!isDir && f & IN_LAYER_BELOW) {
      throw new ExactPlanNeeded(`"${entry.path}" replaces what its own layer wrote below it`);
    }
    if (!isDir && f & (BELOW_UNREPLACED | MARKED_BELOW)) {
      throw new ExactPlanNeeded(
        `an upper layer wrote below "${entry.path}", which this layer holds as a ${entry.type}`,
      );
    }
    if (entry.type === 'symlink') this.state.noteInLayer(entry.path, IN_LAYER_SYMLINK);
    else if (!isDir) this.state.noteInLayer(entry.path, IN_LAYER_FILE);
    if (entry.type === 'hardlink') this.checkLinkTarget(entry.linkname);
  }

  /** A hardlink's target resolved through a symlink of its own layer. */
  private checkLinkTarget(target: string): void {
    this.current().linkTargets.push(target);
    for (let a = parentOf(target); a !== undefined && a !== ''; a = parentOf(a)) {
      if (this.state.get(a) & IN_LAYER_SYMLINK)
        throw new ExactPlanNeeded(`the hardlink target "${target}" lies under a symlink`);
    }
  }

  private visitHardlink(
    layer: LayerScratch,
    entry: PlanEntry,
    ordinal: number,
    key: number,
    hidden: HiddenReason | undefined,
  ): Decision {
    const group = layer.links.join(entry.path, entry.linkname, ordinal, hidden !== undefined, metaOf(entry));
    if (hidden && !group && metaOf(entry) && !this.options.exact && !this.options.scanOnly) {
      // Its header changed the lower file's owner or mode, and no name of this layer is left to say so.
      throw new ExactPlanNeeded(`the hidden hardlink "${entry.path}" into a lower layer set its target's metadata`);
    }
    if (hidden) return drop(hidden);
    if (!group) {
      // Engines write both names of a file into the same layer; a link into a lower layer is
      // only safe if the target is still the file it was, which we learn once all layers ran.
      if (this.state.get(entry.linkname) & (PRESENT | SEALED)) throw this.targetChanged(entry);
      this.crossLinks.push({ key, layer: layer.index, path: entry.path, target: entry.linkname, where: layer.where });
      this.watchTarget(layer, entry.linkname);
      this.markEmitted(entry.path, entry.type);
      return { action: 'defer-to-end' };
    }
    this.markEmitted(entry.path, entry.type);
    return { action: 'defer' }; // every name of the file is written when the layer ends
  }

  /**
   * End the current layer: apply its whiteouts, opaque markers and replacements to what lower
   * layers will see, and say which deferred hardlinks to write now and under which names.
   */
  endLayer(): LayerEpilogue {
    const layer = this.current();
    // A path this layer replaced before writing below it: what upper layers wrote below it
    // went into this layer's directory, whatever lower layers have there.
    const replaced = (path: string) => {
      if (!(this.state.get(path) & IN_LAYER_UNREPLACED)) this.state.forget(path, BELOW_UNREPLACED);
    };
    for (const [i, path] of layer.changedPaths.entries()) if (layer.changedIsDir[i]) replaced(path);
    for (const t of layer.whiteouts) replaced(t);
    for (const a of layer.below) {
      if (this.state.get(a) & IN_LAYER_UNREPLACED) this.state.set(a, BELOW_UNREPLACED);
      this.state.forget(a, IN_LAYER_BELOW | IN_LAYER_UNREPLACED);
    }
    for (const [i, path] of layer.changedPaths.entries()) {
      this.state.forget(path, IN_LAYER | IN_LAYER_ROOTED | IN_LAYER_FILE | IN_LAYER_SYMLINK);
      this.state.set(path, layer.changedIsDir[i] ? PRESENT : PRESENT | SEALED);
      this.state.markAncestors(path, IMPLIED);
    }
    for (const t of layer.whiteouts) {
      this.state.forget(t, IN_LAYER_GONE);
      this.state.set(t, SEALED);
    }
    for (const d of layer.opaques) this.state.set(d, OPAQUE);
    for (const t of layer.linkTargets) this.state.markAncestors(t, MARKED_BELOW);
    for (const [i, path] of layer.keptPaths.entries()) {
      this.state.set(path, layer.keptIsDir[i] ? EMITTED | EMITTED_DIR : EMITTED);
      this.state.markAncestors(path, EMITTED_BELOW);
    }
    // Not deleted or replaced by a non-directory (by this layer, or, as noted, a layer above); this
    // layer's own opaque markers remove only what lower layers have.
    for (const m of layer.markers) if (!this.sealedUpTo(m.dir)) this.markerDirs.push(m);
    this.layer = undefined;
    return layer.links.epilogue(this.options.exact === true || this.options.scanOnly === true);
  }

  /**
   * After the last layer: the keys of the cross-layer hardlinks to write now (their targets are
   * in the output, unchanged), and the markers to keep (`markersToKeep`). Throws UNSUPPORTED for
   * a link whose target a later layer changed. `baseHolds`: --keep-base, whether the kept base
   * has something at a path.
   */
  finish(baseHolds: (path: string) => boolean = () => false): { links: number[]; markers: string[] } {
    return { links: this.finishLinks(), markers: this.markersToKeep(baseHolds) };
  }

  /**
   * The engines create a marker's missing parents (0600 docker, 0755 podman) before they read it
   * as a marker: a directory nothing else of the flat layer makes must come from the marker
   * itself, kept (it removes nothing there, as the flat layer has nothing below it).
   */
  private markersToKeep(baseHolds: (path: string) => boolean): string[] {
    const kept = new Map<string, string>();
    for (const { dir, path } of this.markerDirs) {
      if (kept.has(dir) || this.state.get(dir) & (EMITTED | EMITTED_BELOW) || baseHolds(dir)) continue;
      kept.set(dir, path);
    }
    // A marker deeper down makes its parents too, and one above it, after it in the flat layer
    // (a lower layer's, an opaque one), would remove the directory it made: keep the deepest only.
    const above = new Set<string>();
    for (const dir of kept.keys())
      for (let a = parentOf(dir); a !== undefined && a !== ''; a = parentOf(a)) above.add(a);
    return [...kept].filter(([dir]) => !above.has(dir)).map(([, path]) => path);
  }

  private finishLinks(): number[] {
    if (this.layer) throw new Error('finish before endLayer');
    const links = this.crossLinks.map((l) => {
      const from = this.targetEmittedBy.get(l.target) ?? -1;
      const f = this.state.get(l.target);
      // No file there when the link's layer was applied: the engines refuse the layer, as verify does.
      if (from < 0 || !(f & EMITTED) || f & EMITTED_DIR) throw withContext(missingTarget(l.path, l.target), l.where);
      if (from >= l.layer) throw withContext(this.targetChanged({ path: l.path, linkname: l.target }), l.where);
      return l;
    });
    // Bottom-up, as the engines apply them: a link's header sets the file's owner and mode, the last one winning.
    return links.sort((a, b) => a.layer - b.layer || a.key - b.key).map((l) => l.key);
  }

  /**
   * A hardlink into a lower layer whose target a later entry replaced: the engines keep the file
   * under the link's name, which only the exact plan can say (it moves the content there).
   */
  private targetChanged(e: { path: string; linkname: string }): Error {
    if (!this.options.exact) return new ExactPlanNeeded(`the target of hardlink "${e.path}" is replaced after it`);
    return crossLayerChanged(e);
  }

  /** Whether `dir` or one of its ancestors is SEALED (whited out, or replaced by a non-directory). */
  private sealedUpTo(dir: string): boolean {
    for (let a: string | undefined = dir; a !== undefined && a !== ''; a = parentOf(a)) {
      if (this.state.get(a) & SEALED) return true;
    }
    return false;
  }

  /**
   * An opaque marker of `dir` removes the directories earlier markers of its layer made below it,
   * unless entries of the layer read before it name that directory and every one between (the
   * engines keep a path below `dir` only when it and each of its parents there is such a name).
   */
  private forgetMarkersUnder(layer: LayerScratch, dir: string): void {
    layer.markers = layer.markers.filter((m) => {
      if (dir !== '' && !m.dir.startsWith(`${dir}/`)) return true;
      for (let a: string | undefined = m.dir; a !== undefined && a !== dir; a = parentOf(a)) {
        if (!(this.state.get(a) & (IN_LAYER | IN_LAYER_ROOTED))) return false;
      }
      return true;
    });
  }

  /** A marker at `path`, which makes the engines create `dir` ("" for the root) if it is missing. */
  private noteMarker(layer: LayerScratch, path: string, dir: string): void {
    if (dir !== '' && this.state.hiddenBy(dir, true) === undefined) layer.markers.push({ path, dir });
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

function crossLayerChanged(e: { path: string; linkname: string }): LayerflatError {
  return new LayerflatError(
    'UNSUPPORTED',
    `hardlink "${displayPath(e.path)}" points to "${displayPath(e.linkname)}" outside its layer, ` +
      'and that target is not the same file in the flat image',
  );
}

function contentLost(path: string): LayerflatError {
  return new LayerflatError(
    'UNSUPPORTED',
    `the content of "${displayPath(path)}" is kept only under the name of a later hardlink, ` +
      'which a layer between hides',
  );
}
