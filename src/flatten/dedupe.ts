/**
 * --dedupe's scan: which files of the flat layer are identical to one written before them. Two
 * passes over the plan, so memory stays bounded by the number of files, never their bytes:
 * headers first, grouping files by size, mode, owner and xattrs (most groups have one member and
 * are never read); then the data of the grouped files only, hashed (sha256). The first name of
 * each content in plan order is kept; later ones become hardlinks to it (merge/dedupe.ts).
 */
import { createHash } from 'node:crypto';
import type { Image } from '../image/types.js';
import { layerHeaders } from '../layers/headers.js';
import { layerTar, layerWhere, type LayerReadStats } from '../layers/layer-tar.js';
import { dedupeKey, linkTargetOf, type DedupeLink } from '../merge/dedupe.js';
import { overridden, rewriteTarItem, type Overrides } from '../merge/exact.js';
import { planMerge, type PlanAction } from '../merge/plan.js';
import type { TarReadItem } from '../tar/reader.js';

type Plan = AsyncIterable<PlanAction<TarReadItem>>;

export interface DedupeScan {
  /** Plan position → the first name of the same file. */
  links: Map<number, DedupeLink>;
  /** Files that become links, and the data bytes they no longer store. */
  files: number;
  bytes: number;
}

/** Scan `headers` (the plan over header-only layers), then `data()` (the same plan, with data). */
export async function findDuplicates(headers: Plan, data: () => Plan): Promise<DedupeScan> {
  const { candidates, linked } = await groupBySize(headers);
  return hashGroups(candidates, linked, data);
}

/**
 * The scan over every layer of `image` (what unpack writes and inspect estimates; flatten, which
 * may keep base layers, drives findDuplicates itself): planned exactly when `overrides` are given.
 */
export function findImageDuplicates(
  image: Image,
  overrides?: Overrides,
  stats?: LayerReadStats[],
): Promise<DedupeScan> {
  const exact = { exact: overrides !== undefined };
  const where = (i: number) => layerWhere(image, i);
  const headers = image.layers.map((l, i) => overridden(layerHeaders(l, where(i)), overrides?.get(i), rewriteTarItem));
  const data = () =>
    image.layers.map((l, i) =>
      overridden(layerTar(l, where(i), { stats: stats?.[i] }), overrides?.get(i), rewriteTarItem),
    );
  return findDuplicates(planMerge(headers, exact), () => planMerge(data(), exact));
}

/** The data pass: each candidate hashed, each later one of the same content made a link. */
async function hashGroups(candidates: Map<number, number>, linked: Set<string>, data: () => Plan): Promise<DedupeScan> {
  const links = new Map<number, DedupeLink>();
  let files = 0;
  let bytes = 0;
  if (candidates.size === 0) return { links, files, bytes };
  const first = new Map<string, DedupeLink>();
  let position = 0;
  for await (const action of data()) {
    const key = candidates.get(position);
    const at = position++;
    if (key === undefined || action.kind !== 'keep' || linked.has(action.item.entry.path)) continue;
    const hash = createHash('sha256');
    for await (const chunk of action.item.body()) hash.update(chunk);
    const id = `${key}|${hash.digest('base64')}`; // the group's number, then the content's hash
    const earlier = first.get(id);
    if (earlier) {
      links.set(at, earlier);
      files++;
      bytes += action.item.entry.size;
    } else {
      first.set(id, { linkname: action.item.entry.path, mtime: action.item.entry.mtime });
    }
  }
  return { links, files, bytes };
}

/** The positions of files that share their key with another file, and every hardlink target. */
async function groupBySize(plan: Plan): Promise<{ candidates: Map<number, number>; linked: Set<string> }> {
  const groups = new Map<string, number[]>();
  const linked = new Set<string>();
  let position = 0;
  for await (const action of plan) {
    const at = position++;
    const target = linkTargetOf(action);
    if (target !== undefined) linked.add(target);
    if (action.kind !== 'keep') continue;
    const key = dedupeKey(action.item.entry);
    if (key === undefined) continue;
    const group = groups.get(key);
    if (group) group.push(at);
    else groups.set(key, [at]);
  }
  // Positions → a small group number (not the key string): 300k files must cost bytes each, not a string.
  const candidates = new Map<number, number>();
  let id = 0;
  for (const group of groups.values()) {
    if (group.length > 1) for (const at of group) candidates.set(at, id);
    id++;
  }
  return { candidates, linked };
}
