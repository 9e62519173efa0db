/**
 * Hardlinks within one layer. A tar stores a file once, under its first name, and every other
 * name as a link to it. When an upper layer overwrites or deletes that first name, the other
 * names must still carry the content they had in this layer — so the content is written again
 * under the first surviving name, and the remaining names are linked to that one
 * (go-containerregistry#977/#2002, docker-squash#99 lost or swapped this content).
 *
 * A link header also carries metadata the engines apply to the shared file: its owner, mode and
 * mtime replace the file's, its xattrs are added (docs/engine-rules.md). So every name of a file
 * is written at the layer's end, in tar order, and the last one written carries the metadata of
 * the last header the engines applied — a hidden name's header included.
 */
import { applied, type EntryMeta } from '../engine/meta.js';
import type { EntryType } from '../tar/entry.js';

/** One link entry of a group, in tar order. */
interface GroupLink {
  ordinal: number;
  path: string;
  hidden: boolean;
  meta?: EntryMeta;
}

/** The names of one file within a layer. */
export interface LinkGroup {
  /** Ordinal (in the layer's tar) of the entry that holds the content. */
  contentOrdinal: number;
  /** The name the content is written under in the output when the content entry itself is kept. */
  contentKeptAs?: string;
  /** Every link to it in tar order, hidden ones too (their headers still applied metadata). */
  links: GroupLink[];
}

/**
 * What to write once a layer's pass is over: content entries to read again and write under a
 * new name (`rehome`), deferred links with the name they must point at (`links`), and the
 * metadata the last written name of a file must carry (`meta`, by ordinal; for a rehomed content
 * entry its content ordinal).
 */
export interface LayerEpilogue {
  rehome: Map<number, string>;
  links: Map<number, string>;
  meta: Map<number, EntryMeta>;
}

/**
 * Thrown when the flat layer cannot carry a file's metadata exactly in one pass: its content is
 * written (before the names that changed its metadata were seen) and every one of those names is
 * hidden. The merge is then planned again from the engines' model (merge/exact.ts).
 */
export class ExactPlanNeeded extends Error {
  constructor(readonly reason: string) {
    super(`the flat layer needs the exact plan: ${reason}`);
    this.name = 'ExactPlanNeeded';
  }
}

export class HardlinkGroups {
  // Every file of the layer may turn out to be a link target, but few are: a file is kept as one
  // number (ordinal × 2 + kept) and gets a LinkGroup only when a link joins it — a layer of
  // 300k files would otherwise hold 300k group objects.
  private readonly files = new Map<string, number>();
  private readonly groups = new Map<string, LinkGroup>();
  private readonly all: LinkGroup[] = [];

  /** A non-link entry starts a new file under `path` (a later same-name entry replaces it). */
  addContent(path: string, ordinal: number, type: EntryType, kept: boolean): void {
    this.groups.delete(path);
    if (type === 'dir')
      this.files.delete(path); // a directory cannot be a link target
    else this.files.set(path, ordinal * 2 + (kept ? 1 : 0));
  }

  /** A link entry joins its target's group; undefined when the target is not in this layer. */
  join(path: string, target: string, ordinal: number, hidden: boolean, meta?: EntryMeta): LinkGroup | undefined {
    let group = this.groups.get(target);
    if (!group) {
      const file = this.files.get(target);
      if (file !== undefined) {
        group = { contentOrdinal: Math.floor(file / 2), contentKeptAs: file % 2 === 1 ? target : undefined, links: [] };
        this.groups.set(target, group);
        this.all.push(group);
        this.files.delete(target);
      }
    }
    this.files.delete(path);
    if (group) {
      this.groups.set(path, group);
      group.links.push({ ordinal, path, hidden, ...(meta ? { meta } : {}) });
    } else this.groups.delete(path);
    return group;
  }

  /**
   * Every group's names: the content kept, or re-homed under the first surviving name, then the
   * other surviving names linked to it, the last one written carrying the file's final metadata.
   */
  epilogue(exact: boolean): LayerEpilogue {
    const out: LayerEpilogue = { rehome: new Map(), links: new Map(), meta: new Map() };
    for (const group of this.all) {
      const surviving = group.links.filter((l) => !l.hidden);
      const final = finalMeta(group);
      let holder = group.contentKeptAs;
      let last: number | undefined;
      let rest = surviving;
      if (holder === undefined) {
        const [first, ...others] = surviving;
        if (!first) continue; // no name of this file is in the flat image
        out.rehome.set(group.contentOrdinal, first.path);
        holder = first.path;
        last = group.contentOrdinal;
        rest = others;
      }
      for (const link of rest) {
        out.links.set(link.ordinal, holder);
        last = link.ordinal;
      }
      if (!final || exact) continue; // exact: every header of the file already carries its final metadata
      if (last === undefined) {
        // The content went out before its names were seen, and every name that changed it is hidden.
        throw new ExactPlanNeeded(`the names of "${group.contentKeptAs}" that set its owner or mode are hidden`);
      }
      out.meta.set(last, final);
    }
    return out;
  }
}

/**
 * The metadata the engines leave on a group's file after its layer: the last link's owner,
 * mode and mtime, and every link's xattrs added in order. Undefined when the links carry none
 * (the planner was given no metadata) — then the headers as stored already say it.
 */
function finalMeta(group: LinkGroup): EntryMeta | undefined {
  let final: EntryMeta | undefined;
  for (const l of group.links) if (l.meta) final = final ? applied(final, l.meta) : l.meta;
  return final;
}
