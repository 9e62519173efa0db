/**
 * Hardlinks within one layer. A tar stores a file once, under its first name, and every other
 * name as a link to it. When an upper layer overwrites or deletes that first name, the other
 * names must still carry the content they had in this layer — so the content is written again
 * under the first surviving name, and the remaining names are linked to that one
 * (go-containerregistry#977/#2002, docker-squash#99 lost or swapped this content).
 */
import type { EntryType } from '../tar/entry.js';

/** The names of one file within a layer. */
export interface LinkGroup {
  /** Ordinal (in the layer's tar) of the entry that holds the content. */
  contentOrdinal: number;
  /** The name the content was written under in the output, once it has one. */
  emittedAs?: string;
  /** Surviving link names, in tar order, waiting for the content to get a name. */
  pending: { ordinal: number; path: string }[];
}

/**
 * What to write once a layer's pass is over: content entries to read again and write under a
 * new name (`rehome`), then deferred links with the name they must point at (`links`).
 */
export interface LayerEpilogue {
  rehome: Map<number, string>;
  links: Map<number, string>;
}

export class HardlinkGroups {
  // Every file of the layer may turn out to be a link target, but few are: a file is kept as one
  // number (ordinal × 2 + kept) and gets a LinkGroup only when a link joins it — a layer of
  // 300k files would otherwise hold 300k group objects.
  private readonly files = new Map<string, number>();
  private readonly groups = new Map<string, LinkGroup>();
  private readonly waiting: LinkGroup[] = [];

  /** A non-link entry starts a new file under `path` (a later same-name entry replaces it). */
  addContent(path: string, ordinal: number, type: EntryType, kept: boolean): void {
    this.groups.delete(path);
    if (type === 'dir')
      this.files.delete(path); // a directory cannot be a link target
    else this.files.set(path, ordinal * 2 + (kept ? 1 : 0));
  }

  /** A link entry joins its target's group; undefined when the target is not in this layer. */
  join(path: string, target: string): LinkGroup | undefined {
    let group = this.groups.get(target);
    if (!group) {
      const file = this.files.get(target);
      if (file !== undefined) {
        group = { contentOrdinal: Math.floor(file / 2), emittedAs: file % 2 === 1 ? target : undefined, pending: [] };
        this.groups.set(target, group);
        this.files.delete(target);
      }
    }
    this.files.delete(path);
    if (group) this.groups.set(path, group);
    else this.groups.delete(path);
    return group;
  }

  /** A surviving link whose content has no surviving name yet. */
  defer(group: LinkGroup, ordinal: number, path: string): void {
    if (group.pending.length === 0) this.waiting.push(group);
    group.pending.push({ ordinal, path });
  }

  /** The first pending name of each group takes the content; the others link to it. */
  epilogue(): LayerEpilogue {
    const rehome = new Map<number, string>();
    const links = new Map<number, string>();
    for (const group of this.waiting) {
      const [holder, ...rest] = group.pending;
      if (!holder) continue;
      rehome.set(group.contentOrdinal, holder.path);
      group.emittedAs = holder.path;
      for (const link of rest) links.set(link.ordinal, holder.path);
    }
    return { rehome, links };
  }
}
