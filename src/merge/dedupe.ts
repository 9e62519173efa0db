/**
 * --dedupe: identical regular files of the flat layer stored once. A later name of a file with the
 * same content, mode, owner and xattrs is written as a hardlink to the first name, so an engine
 * (and VFS) keeps one inode for all of them. The link's header carries the first name's metadata:
 * engines apply a hardlink header's mode, owner and mtime to the inode they share.
 *
 * This module decides nothing about content (it never sees bytes): flatten/dedupe.ts hashes the
 * candidates this key groups and hands back the positions in the plan that become links.
 */
import type { TarEntry } from '../tar/entry.js';
import type { PlanAction, PlanItem } from './plan.js';

/** A plan position turned into a link: the first name of the same file, and that name's mtime. */
export interface DedupeLink {
  linkname: string;
  mtime: number;
}

/**
 * What files must share to be one file, bytes aside; undefined for an entry that is never
 * deduplicated: not a plain regular file, empty (nothing to save), or sparse (its holes would be
 * lost on no engine, but its stored form differs from its content).
 */
export function dedupeKey(entry: TarEntry): string | undefined {
  if (entry.type !== 'file' || entry.sparse || entry.size === 0) return undefined;
  const xattrs = [...entry.xattrs]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v.toString('hex')}`)
    .join(',');
  return `${entry.size}:${entry.mode}:${entry.uid}:${entry.gid}:${xattrs}`;
}

/** The paths hardlinks of the plan point at: their files keep their own inode (and its mtime). */
export function linkTargetOf<I extends PlanItem>(action: PlanAction<I>): string | undefined {
  switch (action.kind) {
    case 'link':
      return action.linkname;
    case 'cross-link':
      return action.item.entry.linkname;
    case 'rehome':
      return action.path;
    default:
      return undefined;
  }
}

/** The plan with each action at a position of `links` (counted over every action) made a link. */
export async function* withDedupe<I extends PlanItem>(
  plan: AsyncIterable<PlanAction<I>>,
  links: ReadonlyMap<number, DedupeLink> | undefined,
): AsyncGenerator<PlanAction<I>> {
  if (!links || links.size === 0) return yield* plan;
  let position = 0;
  for await (const action of plan) {
    const link = links.get(position++);
    if (link && action.kind === 'keep') yield { kind: 'dedupe', item: action.item, ...link };
    else yield action;
  }
}
