/**
 * The engines' application of layers, bottom-up over entry headers alone (engine/fs-tree.ts),
 * recording what the flat layer must say differently from the stored headers to show the same
 * filesystem:
 * - the path (and a hardlink's target) as resolved through symlinks, when that differs;
 * - entries a later entry of their own layer removed (a whiteout or an opaque marker after them,
 *   a write onto the same place through a symlink): dropped;
 * - the metadata of a file with several names: every header of it carries the file's final
 *   owner, mode, mtime and xattrs, so any order of writing them ends the same.
 * Refuses, as the engines do, what they refuse (BAD_TAR from FsTree).
 *
 * This is the slow, exact plan (merge/exact.ts runs it when the one-pass planner finds a case it
 * cannot carry in one pass); pure, like every module of engine/.
 */
import { FsTree, type FsNode, type Placed } from './fs-tree.js';
import { applied, carries, metaOf, type EntryMeta, type MetaFields } from './meta.js';
import type { EntryType } from '../tar/entry.js';

/** What applying an entry needs (a tar entry has all of it). */
export interface ModelEntry extends MetaFields {
  path: string;
  type: EntryType;
  linkname: string;
  rooted?: boolean;
}

/** How the flat layer must write one source entry (layer, ordinal) instead of as stored. */
export interface EntryOverride {
  /** Not in the flat layer: a later entry of its own layer removed it. */
  drop?: true;
  /**
   * With `drop`: a file (not a directory) a later entry removed had replaced what lower layers
   * have at its path; the flat plan reads it as a whiteout of that path, which keeps that effect.
   */
  asWhiteout?: true;
  /** The path it lands on once its parents are resolved through symlinks. */
  path?: string;
  /** A hardlink's target, resolved likewise. */
  linkname?: string;
  meta?: EntryMeta;
  /**
   * Its content moved under a name a later layer gave the file (the name holding it went away):
   * the flat layer must carry it, or the file is lost.
   */
  holdsContent?: true;
}

/** Overrides by layer index, then by ordinal in the layer's tar. */
export type Overrides = Map<number, Map<number, EntryOverride>>;

/** A header that applied to a node. */
interface Ref {
  layer: number;
  ordinal: number;
  meta?: EntryMeta;
  /** Where the entry wrote (its parents resolved), once applied; a content entry's moves with it. */
  path?: string;
}

/** A name an entry of the current layer gave a node, and the path it landed on. */
interface Name {
  node: FsNode<Made | undefined>;
  ref: Ref;
  path: string;
}

/** A node's value in the model: the entry that made it, and for a file every header that applied to it. */
interface Made {
  origin: Ref;
  /** Files only: the file's metadata now, and the headers that set it (content, then links). */
  meta?: EntryMeta;
  refs?: Ref[];
}

export class EngineModel {
  /**
   * `storedBelow`: layers below it are written as stored (--keep-base), so no content entry of
   * theirs can move under another name.
   */
  constructor(private readonly options: { storedBelow?: number } = {}) {}
  private readonly out: Overrides = new Map();
  private readonly tree = new FsTree<Made | undefined>({
    onLink: (file, link) => {
      if (!file?.refs || !link) return;
      if (link.origin.meta) file.meta = file.meta ? applied(file.meta, link.origin.meta) : link.origin.meta;
      file.refs.push(link.origin);
    },
    observer: {
      linked: () => undefined,
      unlinked: () => undefined,
      // What a later entry of the same layer took away never reaches the flat layer.
      released: (node) => {
        const names = this.namedBy.get(node);
        if (!names) return;
        this.namedBy.delete(node);
        for (const name of names) this.forget(name);
      },
    },
  });
  private layer = -1;
  /** The names entries of the current layer gave each node (a hardlink's node holds its file's value). */
  private namedBy = new Map<FsNode<Made | undefined>, Name[]>();
  /** For each file whose content this layer wrote: its names still there, the content's first. */
  private fileNames = new Map<Made, Name[]>();

  startLayer(index: number): void {
    this.layer = index;
    this.namedBy = new Map();
    this.fileNames = new Map();
    this.tree.startLayer(index);
  }

  /** Apply entry `ordinal` of the current layer. */
  apply(entry: ModelEntry, ordinal: number): void {
    const meta = metaOf(entry);
    const origin: Ref = { layer: this.layer, ordinal, ...(meta ? { meta } : {}) };
    const isFile = entry.type !== 'dir' && entry.type !== 'hardlink';
    const value: Made = { origin, ...(isFile ? { ...(meta ? { meta } : {}), refs: [origin] } : {}) };
    if (entry.type === 'hardlink') {
      const target = this.tree.resolvedPath(entry.linkname);
      if (target !== undefined && target !== entry.linkname) this.override(this.layer, ordinal).linkname = target;
    }
    let at: Placed<Made | undefined> | undefined;
    const applied = this.tree.apply(
      { path: entry.path, type: entry.type, linkname: entry.linkname, value, rooted: entry.rooted },
      (placed) => {
        at = placed;
        const resolved = placed.parentPath === '' ? placed.base : `${placed.parentPath}/${placed.base}`;
        if (resolved !== entry.path) this.override(this.layer, ordinal).path = resolved;
      },
    );
    // A marker that found nothing to act on (under a dangling symlink, on a file) says nothing.
    if ((applied === 'whiteout' || applied === 'opaque') && !at) this.override(this.layer, ordinal).drop = true;
    const node = applied === 'added' || applied === 'changed' ? at?.parent.children?.get(at.base) : undefined;
    if (!node || !at) return;
    const earlier = this.namedBy.get(node) ?? [];
    if (earlier.length > 0) {
      // Two names of this layer reached one node (one through a symlink): one entry must say it.
      // A directory merged into its earlier self: the later entry's metadata won. A name linked
      // to the file it already is: the earlier entry says it all.
      if (!node.isDir) return void (this.override(this.layer, ordinal).drop = true);
      for (const name of earlier) this.override(name.ref.layer, name.ref.ordinal).drop = true;
    }
    const name: Name = { node, ref: origin, path: at.parentPath === '' ? at.base : `${at.parentPath}/${at.base}` };
    origin.path = name.path;
    this.namedBy.set(node, [name]);
    if (isFile) return void this.fileNames.set(value, [name]);
    const names = node.value && this.fileNames.get(node.value);
    if (!names) return;
    // A link of this layer's file points at the name holding its content: any other may go first.
    names.push(name);
    if (names[0]!.path !== entry.linkname) this.override(this.layer, ordinal).linkname = names[0]!.path;
  }

  /**
   * A name of this layer's left the tree. Its entry is dropped — unless it held the content of a
   * file that still has names of this layer: the content is then written under the next of them,
   * whose link entry goes, and the other names link to it.
   */
  private forget(name: Name): void {
    const names = name.node.value && this.fileNames.get(name.node.value);
    const i = names ? names.indexOf(name) : -1;
    if (names && i >= 0) names.splice(i, 1);
    const next = names?.[0];
    if (i !== 0 || !next) {
      const o = this.override(name.ref.layer, name.ref.ordinal);
      o.drop = true;
      if (!name.node.isDir) o.asWhiteout = true; // at its resolved path (o.path), if it differs
      return;
    }
    this.override(name.ref.layer, name.ref.ordinal).path = next.path;
    name.ref.path = next.path;
    this.override(next.ref.layer, next.ref.ordinal).drop = true;
    next.ref = name.ref;
    for (const other of names.slice(1)) this.override(other.ref.layer, other.ref.ordinal).linkname = next.path;
  }

  endLayer(): void {
    this.tree.endLayer();
  }

  /** What the flat layer must change, by layer and ordinal. */
  overrides(): Overrides {
    // The names each file has in the end (a hardlink's node holds its file's value).
    const names = new Map<Made, string[]>();
    for (const [path, node] of this.tree.walk()) {
      const file = node.value;
      if (!file?.refs) continue;
      const list = names.get(file);
      if (list) list.push(path);
      else names.set(file, [path]);
    }
    for (const [file, paths] of names) {
      const refs = file.refs!;
      this.rehomeLost(refs, paths);
      if (!file.meta || refs.length < 2) continue;
      for (const ref of refs) {
        if (!(ref.meta && carries(ref.meta, file.meta))) this.override(ref.layer, ref.ordinal).meta = file.meta;
      }
    }
    return this.out;
  }

  /**
   * A file whose content entry's name went away in a later layer (overwritten or whited out)
   * while names linked to it stay: the content entry is written under the earliest of them, whose
   * link entry goes, and the other names link to it (engines keep the file under those names).
   */
  private rehomeLost(refs: readonly Ref[], paths: readonly string[]): void {
    const content = refs[0]!;
    if (content.path === undefined || paths.includes(content.path)) return;
    if (content.layer < (this.options.storedBelow ?? 0)) return; // the planner refuses it (UNSUPPORTED)
    // The entry that gave each remaining name (the last one, if a name was given twice).
    let holder: Ref | undefined;
    for (const path of paths) {
      let last: Ref | undefined;
      for (const ref of refs) if (ref !== content && ref.path === path) last = ref;
      if (
        last &&
        (!holder || last.layer < holder.layer || (last.layer === holder.layer && last.ordinal < holder.ordinal))
      ) {
        holder = last;
      }
    }
    if (!holder?.path) return;
    const moved = this.override(content.layer, content.ordinal);
    moved.path = holder.path;
    moved.holdsContent = true;
    content.path = holder.path;
    this.override(holder.layer, holder.ordinal).drop = true;
    for (const ref of refs) {
      if (ref !== content && ref !== holder) this.override(ref.layer, ref.ordinal).linkname = holder.path;
    }
  }

  private override(layer: number, ordinal: number): EntryOverride {
    let byOrdinal = this.out.get(layer);
    if (!byOrdinal) this.out.set(layer, (byOrdinal = new Map()));
    let o = byOrdinal.get(ordinal);
    if (!o) byOrdinal.set(ordinal, (o = {}));
    return o;
  }
}
