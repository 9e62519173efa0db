/**
 * The flat layer from its plan: `planBytes` folds the plan into tar bytes — kept entries copied as
 * stored, header blocks verbatim and data as read, a header built anew only where a name changes
 * or a storage artefact must go — and `planSize` into the exact byte count the same bytes have,
 * without reading any entry data (what an archive writer on stdout needs before the bytes).
 */
import type { TarEntry } from '../tar/entry.js';
import { padLength } from '../tar/header.js';
import type { TarReadItem } from '../tar/reader.js';
import { buildHeader, END_OF_ARCHIVE, paddingFor, rewriteHeader } from '../tar/writer.js';
import { isStorageArtefactXattr } from '../engine/whiteout.js';
import { planMerge, type PlanAction, type PlanLayer, type PlanOptions } from './plan.js';
import type { DropReason } from './planner.js';
import { withDedupe, type DedupeLink } from './dedupe.js';

type Action = PlanAction<TarReadItem>;

/** Counts kept while merging, for --json and the summary line. */
export interface MergeStats {
  entriesIn: number;
  entriesKept: number;
  dropped: Partial<Record<DropReason, number>>;
  hardlinksRehomed: number;
  whiteoutsWritten: number;
  /** --dedupe: files written as hardlinks of an identical one, and the data bytes that saved. */
  deduped: { files: number; bytes: number };
  bytesOut: number;
}

export function emptyStats(): MergeStats {
  return {
    entriesIn: 0,
    entriesKept: 0,
    dropped: {},
    hardlinksRehomed: 0,
    whiteoutsWritten: 0,
    deduped: { files: 0, bytes: 0 },
    bytesOut: 0,
  };
}

/** The flat layer's tar bytes; `stats` fills in as they are read. */
async function* planBytes(plan: AsyncIterable<Action>, stats: MergeStats): AsyncGenerator<Buffer> {
  for await (const action of plan) {
    count(action, stats);
    const header = headerOf(action);
    if (header === undefined) continue;
    stats.bytesOut += header.length;
    yield header;
    const size = dataSizeOf(action);
    if (size === 0) continue;
    for await (const chunk of (action as { item: TarReadItem }).item.body()) {
      stats.bytesOut += chunk.length;
      yield chunk;
    }
    stats.bytesOut += padLength(size);
    yield paddingFor(size);
  }
  stats.bytesOut += END_OF_ARCHIVE.length;
  yield END_OF_ARCHIVE;
}

/** The exact size of `planBytes` of the same plan; entry data is never read. */
async function planSize(plan: AsyncIterable<Action>): Promise<number> {
  let size = END_OF_ARCHIVE.length;
  for await (const action of plan) {
    const header = headerOf(action);
    if (header === undefined) continue;
    const data = dataSizeOf(action);
    size += header.length + data + padLength(data);
  }
  return size;
}

/** Merge `layers` (bottom first) into one layer's tar bytes. Stats fill in as the stream is read. */
export function mergeLayers(layers: readonly PlanLayer<TarReadItem>[], options: MergeOptions = {}) {
  const stats = emptyStats();
  return { stream: planBytes(withDedupe(planMerge(layers, options), options.dedupe), stats), stats };
}

/** The exact size of the flat layer `mergeLayers` would produce (layers may be header-only). */
export function measureMerge(layers: readonly PlanLayer<TarReadItem>[], options: MergeOptions = {}): Promise<number> {
  return planSize(withDedupe(planMerge(layers, options), options.dedupe));
}

export interface MergeOptions extends PlanOptions {
  /** --dedupe: the plan positions written as links (flatten/dedupe.ts finds them). */
  dedupe?: ReadonlyMap<number, DedupeLink>;
}

/** The header blocks an action writes; undefined for a dropped entry. */
function headerOf(action: Action): Buffer | undefined {
  switch (action.kind) {
    case 'drop':
      return undefined;
    case 'keep':
      return cleanHeader(action.item.entry);
    case 'rehome':
      return rewriteHeader(action.item.entry, { path: action.path, dropPax: isArtefactPax, meta: action.meta });
    case 'link':
      return rewriteHeader(action.item.entry, { linkname: action.linkname, dropPax: isArtefactPax, meta: action.meta });
    case 'cross-link':
      return cleanHeader(action.item.entry);
    case 'marker':
      return buildHeader({ path: action.path, type: 'file', mode: 0o644, size: 0 });
    case 'dedupe':
      return dedupeHeader(action.item.entry, action.linkname, action.mtime);
  }
}

/** A hardlink named as `entry`, to `linkname`, setting what the shared inode already has. */
function dedupeHeader(entry: TarEntry, linkname: string, mtime: number): Buffer {
  const { path, mode, uid, gid, uname, gname } = entry;
  return buildHeader({ path, type: 'hardlink', linkname, mode, uid, gid, uname, gname, mtime, size: 0 });
}

function dataSizeOf(action: Action): number {
  return action.kind === 'keep' || action.kind === 'rehome' ? action.item.entry.dataSize : 0;
}

function count(action: Action, stats: MergeStats): void {
  if (action.kind === 'drop') stats.dropped[action.reason] = (stats.dropped[action.reason] ?? 0) + 1;
  else if (action.kind === 'marker') stats.whiteoutsWritten++;
  else stats.entriesKept++;
  if (action.kind === 'rehome') stats.hardlinksRehomed++;
  if (action.kind === 'dedupe') {
    stats.deduped.files++;
    stats.deduped.bytes += action.item.entry.size;
  }
  if (action.kind !== 'marker') stats.entriesIn++; // a rehome stands for the link whose name it takes
}

/** The entry's header as stored, unless it carries overlay xattrs that must not leak. */
function cleanHeader(entry: TarEntry): Buffer {
  for (const key of entry.xattrs.keys()) {
    if (isStorageArtefactXattr(key)) return rewriteHeader(entry, { dropPax: isArtefactPax });
  }
  return entry.header;
}

function isArtefactPax(key: string): boolean {
  const m = /^(?:SCHILY|LIBARCHIVE)\.xattr\.(.*)$/s.exec(key);
  return m !== null && isStorageArtefactXattr(m[1]!);
}
