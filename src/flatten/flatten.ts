/**
 * The flatten use case: open the source image, merge its layers (or the ones above a kept base)
 * into one, and hand the result to the sink — which writes under a temporary name and renames
 * only when the output is complete (and, with --verify, checked).
 */
import fs from 'node:fs';
import { LayerflatError } from '../errors.js';
import { flatConfig } from '../image/flat-config.js';
import { parsePlatform } from '../image/platform.js';
import type { Compression, Image, OpenNewLayerOptions, OutputImage, WriteResult } from '../image/types.js';
import { DigestChecks, layerHeaders, layerTar, layerWhere, type LayerReadStats } from '../layers/layer-tar.js';
import { measureMerge, mergeLayers, scanLayers, type MergeStats } from '../merge/merge-stream.js';
import type { PathState } from '../merge/path-state.js';
import { openSource, sinkFor } from '../transports/index.js';
import { parseReference } from '../transports/reference.js';
import type { ImageReference } from '../transports/types.js';
import { displayPath } from '../tar/entry.js';
import { compareViews } from '../verify/compare.js';
import { viewOfImage, viewOfReference } from '../verify/sides.js';
import { VERSION } from '../version.js';

export interface FlattenOptions {
  /** Source reference: "docker-archive:PATH[:REF]", "oci:DIR[:REF]", "oci-archive:…", a path or "-". */
  source: string;
  /** Destination reference; default: a docker-archive on stdout ("-"). */
  dest?: string;
  /** Compression of the new layer; default: the destination format's own default. */
  compression?: Compression;
  /** Names for the output; default: the source's. */
  tags?: string[];
  /** Keep this many bottom layers as they are and squash the rest. */
  keepBase?: number;
  /** Squash from this layer up: a 0-based index, or a digest (diff_id or blob digest, prefix ok). */
  fromLayer?: string;
  /** "os/arch[/variant]" to pick from a multi-platform index; default: the host's. */
  platform?: string;
  /** Replace an existing destination (only once the new one is complete). */
  force?: boolean;
  /** Where to spool stdin / stdout archives; default: the OS temp dir. */
  tmpDir?: string;
  /**
   * Before renaming the output into place, check it is the same filesystem as the source.
   * Always done when --force is about to replace something that exists: a user's image is
   * never overwritten by an unchecked replacement.
   */
  verify?: boolean;
  /** Progress: called as layers start and bytes flow. */
  onProgress?: (p: FlattenProgress) => void;
}

export interface FlattenProgress {
  layer: number; // how many layers have been started, counting from the top (they are read top-down)
  layers: number;
  tarBytesIn: number;
  bytesOut: number;
  /** Estimated fraction of the work done, 0..1 (by stored layer sizes). */
  fraction: number;
}

export interface FlattenResult {
  source: string;
  dest: string;
  layersIn: number;
  layersOut: number;
  keptBase: number;
  entries: {
    in: number;
    kept: number;
    dropped: Partial<Record<string, number>>;
    hardlinksRehomed: number;
    whiteoutsWritten: number;
  };
  bytes: { tarIn: number; tarOut: number; written: number };
  layerPasses: number;
  manifestDigest: string;
  configDigest: string;
  layers: WriteResult['layers'];
  tags: string[];
  /** Whether the output was checked against the source before it was put in place. */
  verified: boolean;
  seconds: number;
}

/** Flatten one image. Throws LayerflatError; on any error nothing is left at the destination. */
export async function flatten(options: FlattenOptions): Promise<FlattenResult> {
  const started = process.hrtime.bigint();
  const sourceRef = parseReference(options.source, 'source');
  const destRef = parseReference(options.dest ?? '-', 'dest');
  const platform = options.platform ? parsePlatform(options.platform) : undefined;
  const opened = await openSource(sourceRef, { platform, tmpDir: options.tmpDir });
  try {
    const { image } = opened;
    const keep = keepCount(image, options);
    const checks = new DigestChecks();
    const layers = image.layers.map((l, i) => layerTar(l, layerWhere(image, i), { checks }));
    const base = keep > 0 ? await scanLayers(layers.slice(0, keep)) : undefined;
    const progress = new Progress(
      options.onProgress,
      layers.map((l, i) => ({ stats: l.stats, size: image.layers[i]!.size })),
    );
    // Made when the sink opens the layer: whether its chunks may come from reused buffers is the sink's to say.
    let merged: ReturnType<typeof mergeLayers> | undefined;
    const openFlat = async (o: OpenNewLayerOptions = {}) => {
      if (merged) throw new Error('the flat layer opens once');
      merged = mergeLayers(layers.slice(keep), {
        base,
        onLayer: (i) => progress.layerStarted(keep + i),
        reuseBuffers: o.chunksMayBeReused,
      });
      return checkedAtEnd(progress.watch(merged.stream, merged.stats), checks);
    };
    const sink = sinkFor(destRef);
    const verify =
      options.verify === true || (options.force === true && destRef.path !== '-' && fs.existsSync(destRef.path));
    const compression = options.compression ?? sink.defaultCompression;
    const size = sink.streamsPlannedLayers
      ? await plannedSize(image, keep, destRef, compression, verify, base)
      : undefined;
    const output: OutputImage = {
      config: flatConfig(image.config, { keep, layerCount: image.layers.length, tool: `layerflat ${VERSION}` }),
      layers: [
        ...image.layers.slice(0, keep).map((layer) => ({ kind: 'copy' as const, layer })),
        { kind: 'new' as const, size, open: openFlat },
      ],
      tags: options.tags && options.tags.length > 0 ? options.tags : [...image.tags],
    };
    const written = await sink
      .write(destRef, output, {
        compression,
        force: options.force ?? false,
        tmpDir: options.tmpDir,
        beforeCommit: verify ? (staged) => verifyOutput(image, staged) : undefined,
      })
      .catch((err: unknown) => {
        checks.abandon(); // do not keep hashing input for a run that has failed
        throw err;
      });
    if (!merged) throw new Error('the sink never wrote the flat layer');
    return result(
      options,
      image,
      keep,
      merged.stats,
      layers.map((l) => l.stats),
      written,
      output.tags,
      verify,
      started,
    );
  } finally {
    await opened.close();
  }
}

/** The flat layer's bytes, ending only once every source layer's diff_id check has passed. */
async function* checkedAtEnd(chunks: AsyncIterable<Buffer>, checks: DigestChecks): AsyncGenerator<Buffer> {
  yield* chunks;
  await checks.settle();
}

/**
 * An archive on stdout cannot be built and then renamed, and a tar member's size must precede
 * its bytes: planning the flat layer's exact size first (tar headers only, read in place where
 * the layers are plain tars in a file) lets it stream out with no temporary copy at all.
 */
async function plannedSize(
  image: Image,
  keep: number,
  dest: ImageReference,
  compression: Compression,
  verify: boolean,
  base: PathState | undefined,
): Promise<number | undefined> {
  if (dest.path !== '-' || compression !== 'none' || verify) return undefined;
  const headers = image.layers.slice(keep).map((l, i) => layerHeaders(l, layerWhere(image, keep + i)));
  return measureMerge(headers, { base });
}

/** --verify: the staged output must show the same filesystem as the source, or nothing is written. */
async function verifyOutput(image: Image, staged: ImageReference): Promise<void> {
  const differences = compareViews(await viewOfImage(image), await viewOfReference(staged));
  if (differences.length === 0) return;
  const first = differences
    .slice(0, 5)
    .map((d) => `${displayPath(d.path)} (${d.kind})`)
    .join(', ');
  throw new LayerflatError(
    'VERIFY_FAILED',
    `the flat image differs from ${image.origin} in ${differences.length} place(s): ${first}; nothing was written`,
  );
}

/** How many bottom layers --keep-base / --from-layer keep; at least one layer must be squashed. */
function keepCount(image: Image, o: FlattenOptions): number {
  const n = image.layers.length;
  if (n === 0) throw new LayerflatError('BAD_MANIFEST', `${image.origin}: the image has no layers`);
  if (o.keepBase !== undefined && o.fromLayer !== undefined) {
    throw new LayerflatError('USAGE', '--keep-base and --from-layer say the same thing; give one');
  }
  let keep = o.keepBase ?? 0;
  if (o.fromLayer !== undefined) keep = layerIndex(image, o.fromLayer);
  if (!Number.isInteger(keep) || keep < 0 || keep >= n) {
    throw new LayerflatError('USAGE', `cannot keep ${keep} of ${n} layers: at least one layer must remain to squash`);
  }
  return keep;
}

function layerIndex(image: Image, spec: string): number {
  if (/^\d+$/.test(spec)) return Number(spec);
  const want = spec.includes(':') ? spec : `sha256:${spec}`;
  const hits = image.layers.flatMap((l, i) => ([l.diffId, l.digest].some((d) => d?.startsWith(want)) ? [i] : []));
  const unique = [...new Set(hits)];
  if (unique.length === 1) return unique[0]!;
  const list = image.layers.map((l, i) => `  ${i}: ${l.diffId}`).join('\n');
  const why = unique.length === 0 ? 'matches no layer' : 'matches several layers';
  throw new LayerflatError('USAGE', `--from-layer ${spec} ${why}; the layers are:\n${list}`);
}

/**
 * Turns layer starts and output bytes into FlattenProgress calls, at most every 8 MiB. The
 * fraction done is weighed by stored layer sizes, the only sizes known before reading; inside a
 * compressed layer the stored bytes read are estimated from the tar bytes and the ratio seen so far.
 */
class Progress {
  private current = -1;

  constructor(
    private readonly callback: ((p: FlattenProgress) => void) | undefined,
    private readonly layers: readonly { stats: LayerReadStats; size?: number }[],
  ) {}

  layerStarted(index: number): void {
    this.current = index;
    this.report(0);
  }

  async *watch(stream: AsyncIterable<Buffer>, stats: MergeStats): AsyncGenerator<Buffer> {
    let next = 0;
    for await (const chunk of stream) {
      yield chunk;
      if (this.callback && stats.bytesOut >= next) {
        next = stats.bytesOut + (8 << 20);
        this.report(stats.bytesOut);
      }
    }
  }

  private report(bytesOut: number): void {
    if (!this.callback) return;
    const tarBytesIn = this.layers.reduce((s, l) => s + l.stats.tarBytes, 0);
    const layer = this.layers.length - this.current;
    this.callback({ layer, layers: this.layers.length, tarBytesIn, bytesOut, fraction: this.fraction() });
  }

  /** Layers are read top-down: those above `current` are done. */
  private fraction(): number {
    const size = (l: { stats: LayerReadStats; size?: number }) => l.size ?? l.stats.tarBytes;
    const total = this.layers.reduce((s, l) => s + size(l), 0);
    const done = this.layers.slice(this.current + 1);
    const ratio = storedPerTarByte(done);
    const cur = this.layers[this.current];
    const partial = cur ? Math.min(size(cur), cur.stats.tarBytes * (cur.stats.compression === 'none' ? 1 : ratio)) : 0;
    return total > 0 ? Math.min(1, (done.reduce((s, l) => s + size(l), 0) + partial) / total) : 0;
  }
}

function storedPerTarByte(done: readonly { stats: LayerReadStats; size?: number }[]): number {
  const compressed = done.filter((l) => l.stats.compression !== 'none' && l.size !== undefined && l.stats.tarBytes > 0);
  const tar = compressed.reduce((s, l) => s + l.stats.tarBytes, 0);
  return tar > 0 ? compressed.reduce((s, l) => s + l.size!, 0) / tar : 0.35; // 0.35: a typical gzip ratio
}

function result(
  o: FlattenOptions,
  image: Image,
  keep: number,
  stats: MergeStats,
  layerStats: LayerReadStats[],
  written: WriteResult,
  tags: readonly string[],
  verified: boolean,
  started: bigint,
): FlattenResult {
  return {
    source: o.source,
    dest: o.dest ?? '-',
    layersIn: image.layers.length,
    layersOut: keep + 1,
    keptBase: keep,
    entries: {
      in: stats.entriesIn,
      kept: stats.entriesKept,
      dropped: stats.dropped,
      hardlinksRehomed: stats.hardlinksRehomed,
      whiteoutsWritten: stats.whiteoutsWritten,
    },
    bytes: {
      tarIn: layerStats.reduce((s, l) => s + l.tarBytes, 0),
      tarOut: stats.bytesOut,
      written: written.bytesWritten,
    },
    layerPasses: layerStats.reduce((s, l) => s + l.passes, 0),
    manifestDigest: written.manifestDigest,
    configDigest: written.configDigest,
    layers: written.layers,
    tags: [...tags],
    verified,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}
