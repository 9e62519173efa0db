/**
 * The engines' application of layers, bottom-up over entry headers alone, recording what the
 * flat layer must say differently from the stored headers to show the same filesystem: the
 * metadata of a file with several names (every header of it carries the file's final owner,
 * mode, mtime and xattrs, so any order of writing them ends the same).
 *
 * This is the slow, exact plan (merge/exact.ts runs it when the one-pass planner finds a case it
 * cannot carry in one pass); pure, like every module of engine/.
 */
import { FsTree } from './fs-tree.js';
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
  meta?: EntryMeta;
}

/** Overrides by layer index, then by ordinal in the layer's tar. */
export type Overrides = Map<number, Map<number, EntryOverride>>;

/** A header that applied to a file. */
interface Ref {
  layer: number;
  ordinal: number;
  meta?: EntryMeta;
}

/** A non-directory file: its metadata now, and every header that applied to it. */
interface Inode {
  meta?: EntryMeta;
  refs: Ref[];
}

export class EngineModel {
  private readonly tree = new FsTree<Inode | undefined>({
    onLink: (file, link) => {
      if (!file || !link) return;
      const over = link.meta;
      if (over) file.meta = file.meta ? applied(file.meta, over) : over;
      file.refs.push(...link.refs);
    },
  });
  private layer = -1;

  startLayer(index: number): void {
    this.layer = index;
    this.tree.startLayer(index);
  }

  /** Apply entry `ordinal` of the current layer. */
  apply(entry: ModelEntry, ordinal: number): void {
    const meta = metaOf(entry);
    const ref: Ref = { layer: this.layer, ordinal, ...(meta ? { meta } : {}) };
    const value = entry.type === 'dir' ? undefined : { ...(meta ? { meta } : {}), refs: [ref] };
    this.tree.apply({ path: entry.path, type: entry.type, linkname: entry.linkname, value, rooted: entry.rooted });
  }

  endLayer(): void {
    this.tree.endLayer();
  }

  /** What the flat layer must change, for entries of layers `from` and up (those it is made of). */
  overrides(from: number): Overrides {
    const out: Overrides = new Map();
    const seen = new Set<Inode>();
    for (const [, node] of this.tree.walk()) {
      const inode = node.value;
      if (!inode || seen.has(inode) || inode.refs.length < 2 || !inode.meta) continue;
      seen.add(inode);
      for (const ref of inode.refs) {
        if (ref.layer < from || (ref.meta && carries(ref.meta, inode.meta))) continue;
        let layer = out.get(ref.layer);
        if (!layer) out.set(ref.layer, (layer = new Map()));
        layer.set(ref.ordinal, { meta: inode.meta });
      }
    }
    return out;
  }
}
