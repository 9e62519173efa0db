/**
 * The one file of the merge that touches bytes: it drives the planner over the layers' tar
 * entries and yields the flat layer as tar bytes. Kept entries are copied as they were stored —
 * header blocks verbatim, data as read — and a header is built anew only where the planner
 * changes a name or a storage artefact must go.
 */
import { LayerflatError } from '../errors.js';
import type { TarEntry } from '../tar/entry.js';
import type { TarReadItem } from '../tar/reader.js';
import { buildHeader, END_OF_ARCHIVE, paddingFor, rewriteHeader } from '../tar/writer.js';
import { whiteoutsForBase } from './base-whiteouts.js';
import { MergePlanner, type Decision, type DropReason } from './planner.js';
import type { PathState } from './path-state.js';
import { isStorageArtefactXattr } from '../engine/whiteout.js';

/** A layer as the merge sees it: a re-readable sequence of tar entries. */
export interface LayerTar {
  /** Names the layer in messages, e.g. "layer 3/14 (sha256:ab12…)". */
  readonly where: string;
  /**
   * Read the layer's entries from the start (decompressed). A second call reads it again.
   * `reuseBuffers`: entry data may come in chunks of buffers the reader reuses.
   */
  entries(options?: { reuseBuffers?: boolean }): AsyncIterable<TarReadItem>;
}

/** Counts kept while merging, for --json and the summary line. */
export interface MergeStats {
  entriesIn: number;
  entriesKept: number;
  dropped: Partial<Record<DropReason, number>>;
  hardlinksRehomed: number;
  whiteoutsWritten: number;
  bytesOut: number;
}

export interface MergeOptions {
  /** State of the kept base layers (from `scanLayers`): the output then keeps needed whiteouts. */
  base?: PathState;
  /** Called when a layer starts, so callers can report progress. */
  onLayer?: (layerIndex: number) => void;
  /**
   * Plan only: yield headers and padding but count entry data instead of reading it, so
   * `stats.bytesOut` ends as the size the flat layer will have. Layers may then be header-only.
   */
  measureOnly?: boolean;
  /**
   * The reader of the merged stream is done with each chunk before it asks for the next (see
   * OpenNewLayerOptions): layers may then be read into reused buffers. Nothing here keeps a
   * chunk of entry data past the yield that hands it on.
   */
  reuseBuffers?: boolean;
}

/**
 * Merge `layers` (bottom first) into one layer's tar bytes. Stats fill in as the stream is read.
 * Each layer is read once, and again only if a hardlink's content must be written under a new name.
 */
export function mergeLayers(layers: readonly LayerTar[], options: MergeOptions = {}) {
  const stats: MergeStats = {
    entriesIn: 0,
    entriesKept: 0,
    dropped: {},
    hardlinksRehomed: 0,
    whiteoutsWritten: 0,
    bytesOut: 0,
  };
  return { stream: countBytes(mergeChunks(layers, options, stats), stats), stats };
}

/**
 * Read the entry headers of `layers` (bottom first) and return what their merge contains, for
 * --keep-base: the squashed layer's whiteouts are checked against it. Data is skipped, not copied.
 */
export async function scanLayers(layers: readonly LayerTar[]): Promise<PathState> {
  const planner = new MergePlanner();
  for (let i = layers.length - 1; i >= 0; i--) {
    planner.startLayer(i, layers[i]!.where);
    let ordinal = 0;
    for await (const item of layers[i]!.entries()) planner.visit(item.entry, ordinal++);
    planner.endLayer();
  }
  return planner.state;
}

async function* countBytes(chunks: AsyncGenerator<Buffer>, stats: MergeStats): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    stats.bytesOut += chunk.length;
    yield chunk;
  }
}

async function* mergeChunks(
  layers: readonly LayerTar[],
  options: MergeOptions,
  stats: MergeStats,
): AsyncGenerator<Buffer> {
  const planner = new MergePlanner();
  const crossLinks = new Map<number, TarEntry>();
  let key = 0;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    options.onLayer?.(i);
    planner.startLayer(i, layer.where);
    const deferred = new Map<number, TarEntry>();
    let ordinal = 0;
    for await (const item of layer.entries({ reuseBuffers: options.reuseBuffers })) {
      stats.entriesIn++;
      const decision = planner.visit(item.entry, ordinal, key);
      yield* applyDecision(decision, item, stats, options);
      if (decision.action === 'defer') deferred.set(ordinal, headerOnly(item.entry, layer.where));
      if (decision.action === 'defer-to-end') crossLinks.set(key++, headerOnly(item.entry, layer.where));
      ordinal++;
    }
    const { rehome, links } = planner.endLayer();
    if (rehome.size > 0) yield* rehomeContent(layer, rehome, stats, options);
    for (const [ord, linkname] of [...links].sort((a, b) => a[0] - b[0])) {
      yield* entryBytes(rewriteHeader(deferred.get(ord)!, { linkname, dropPax: isArtefactPax }), stats);
    }
  }
  for (const k of planner.finish()) yield* entryBytes(cleanHeader(crossLinks.get(k)!), stats);
  if (options.base) {
    for (const m of whiteoutsForBase(planner.state, options.base)) {
      if (m.type === 'whiteout') stats.whiteoutsWritten++;
      else stats.entriesKept++;
      const mode = m.type === 'dir' ? 0o755 : 0o644;
      yield buildHeader({
        path: m.path,
        type: m.type === 'dir' ? 'dir' : 'file',
        mode,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: 0,
      });
    }
  }
  yield END_OF_ARCHIVE;
}

/**
 * The exact size in bytes of the uncompressed flat layer `mergeLayers` would produce, found by
 * planning alone (entry data is never read) — what an archive writer needs before the bytes.
 */
export async function measureMerge(
  layers: readonly LayerTar[],
  options: Omit<MergeOptions, 'measureOnly'> = {},
): Promise<number> {
  const { stream, stats } = mergeLayers(layers, { ...options, measureOnly: true });
  for await (const _ of stream);
  return stats.bytesOut;
}

async function* applyDecision(
  decision: Decision,
  item: TarReadItem,
  stats: MergeStats,
  options: MergeOptions,
): AsyncGenerator<Buffer> {
  if (decision.action === 'drop') {
    stats.dropped[decision.reason] = (stats.dropped[decision.reason] ?? 0) + 1;
    return;
  }
  if (decision.action !== 'keep') return;
  const { entry } = item;
  const header =
    decision.linkname !== undefined
      ? rewriteHeader(entry, { linkname: decision.linkname, dropPax: isArtefactPax })
      : cleanHeader(entry);
  stats.entriesKept++;
  yield header;
  yield* dataOf(item, stats, options);
}

/** An entry's data and padding — or, when only measuring, its padding and a count of the data. */
async function* dataOf(item: TarReadItem, stats: MergeStats, options: MergeOptions): AsyncGenerator<Buffer> {
  const size = item.entry.dataSize;
  if (size === 0) return;
  if (options.measureOnly) stats.bytesOut += size;
  else yield* item.body();
  yield paddingFor(size);
}

/** Read a layer again and write each listed content entry under its new name. */
async function* rehomeContent(
  layer: LayerTar,
  rehome: Map<number, string>,
  stats: MergeStats,
  options: MergeOptions,
): AsyncGenerator<Buffer> {
  const last = Math.max(...rehome.keys());
  let ordinal = 0;
  for await (const item of layer.entries({ reuseBuffers: options.reuseBuffers })) {
    const path = rehome.get(ordinal);
    if (path !== undefined) {
      stats.hardlinksRehomed++;
      stats.entriesKept++;
      yield rewriteHeader(item.entry, { path, dropPax: isArtefactPax });
      yield* dataOf(item, stats, options);
    }
    if (ordinal++ === last) break;
  }
}

function* entryBytes(header: Buffer, stats: MergeStats): Generator<Buffer> {
  stats.entriesKept++;
  yield header;
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

/** A deferred link is written later from its header alone, so it must carry no data. */
function headerOnly(entry: TarEntry, where: string): TarEntry {
  if (entry.dataSize > 0) {
    throw new LayerflatError('UNSUPPORTED', `${where}: hardlink entry at offset ${entry.offset} carries data`);
  }
  return entry;
}
