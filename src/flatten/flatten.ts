/**
 * The flatten use case: open the source image, merge its layers (or the ones above a kept base)
 * into one, and hand the result to the sink — which writes under a temporary name and puts it in
 * place only when the output is complete (and, with --verify, checked).
 */
import type { Readable, Writable } from 'node:stream';
import { BufferRing } from '../bytes/ring.js';
import { LayerflatError } from '../errors.js';
import { flatConfig } from '../image/flat-config.js';
import { parseImageName } from '../image/name.js';
import { parsePlatform } from '../image/platform.js';
import type { Compression, Image, OpenNewLayerOptions, OutputImage, WriteResult } from '../image/types.js';
import { layerHeaders } from '../layers/headers.js';
import { DigestChecks, layerTar, layerWhere, type LayerReadStats } from '../layers/layer-tar.js';
import { emptyStats, measureMerge, mergeLayers, type MergeStats } from '../merge/output.js';
import { exactOverrides, overridden, rewriteTarItem, type Overrides } from '../merge/exact.js';
import { baseMarkers, planMerge, type BaseScan, type PlanLayer } from '../merge/plan.js';
import { ExactPlanNeeded } from '../merge/planner.js';
import type { TarReadItem } from '../tar/reader.js';
import { displayPath } from '../tar/entry.js';
import { openSource, sinkFor } from '../transports/index.js';
import { parseReference } from '../transports/reference.js';
import type { RegistryOptions } from '../transports/registry/client.js';
import type { ImageReference } from '../transports/types.js';
import { compareViews } from '../verify/compare.js';
import { viewOfImage, viewOfReference } from '../verify/sides.js';
import { VERSION } from '../version.js';
import { findDuplicates, type DedupeScan } from './dedupe.js';
import { keepCount } from './layers.js';
import { Progress, type FlattenProgress } from './progress.js';

export type { FlattenProgress } from './progress.js';

export interface FlattenOptions {
  /** Source reference: "docker-archive:PATH[:REF]", "oci:DIR[:REF]", "oci-archive:…", a path or "-". */
  source: string;
  /** Destination reference; default: a docker-archive on stdout ("-"). */
  dest?: string;
  /** Compression of the new layer; default: the destination format's own default. */
  compression?: Compression;
  /** Names for the output (Docker reference grammar); default: the source's. */
  tags?: string[];
  /** Keep this many bottom layers as they are and squash the rest. */
  keepBase?: number;
  /** Squash from this layer up: a 0-based index, or a digest (diff_id or blob digest, prefix ok). */
  fromLayer?: string;
  /** "os/arch[/variant]" to pick from a multi-platform index; default: the host's. */
  platform?: string;
  /** Replace an existing destination (only once the new one is complete, and verified). */
  force?: boolean;
  /** Where to spool stdin / stdout archives; default: the OS temp dir. */
  tmpDir?: string;
  /** The podman program for containers-storage: / podman: (default: "podman" on PATH). */
  podman?: string;
  /**
   * Before putting the output in place, check it is the same filesystem as the source. Always
   * done when --force is about to replace something that exists: a user's image is never
   * overwritten by an unchecked replacement.
   */
  verify?: boolean;
  /**
   * Write identical regular files (same content, mode, owner, xattrs) once, the later names as
   * hardlinks of the first, which then share its mtime. Opt-in: writing one name changes all.
   */
  dedupe?: boolean;
  /** What a source "-" reads and a destination "-" writes (the CLI passes the process's own). */
  stdin?: Readable;
  stdout?: Writable;
  /** The Docker daemon for docker-daemon: references, as DOCKER_HOST spells it (the CLI passes $DOCKER_HOST). */
  dockerHost?: string;
  /** Credentials, TLS and environment for a docker:// source, and for a docker:// destination. */
  sourceRegistry?: RegistryOptions;
  destRegistry?: RegistryOptions;
  /** Progress: called as layers start and bytes flow. */
  onProgress?: (p: FlattenProgress) => void;
  /** The buffers plain layers are read into when the sink allows reuse (default: 3 of 256 KiB). */
  readRing?: BufferRing;
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
    /** --dedupe: files written as hardlinks of an identical file, and the data bytes saved. */
    deduped: { files: number; bytes: number };
  };
  bytes: { tarIn: number; tarOut: number; written: number };
  layerPasses: number;
  manifestDigest: string;
  configDigest: string;
  layers: { digest: string; diffId: string; size: number; mediaType: string }[];
  tags: string[];
  /** Whether the output was checked against the source before it was put in place. */
  verified: boolean;
  /** Things the user should know that are not errors ("nothing above the base to squash"). */
  notes: string[];
  seconds: number;
}

/** Flatten one image. Throws LayerflatError; on any error nothing is left at the destination. */
export async function flatten(options: FlattenOptions): Promise<FlattenResult> {
  const started = performance.now();
  const sourceRef = parseReference(options.source, 'source');
  const destRef = parseReference(options.dest ?? '-', 'dest');
  const platform = options.platform ? parsePlatform(options.platform) : undefined;
  const tags = checkTags(options.tags ?? []);
  const sink = sinkFor(destRef);
  const compression = options.compression ?? sink.defaultCompression;
  const force = options.force ?? false;
  // Before anything is read: a destination that cannot be written fails now, not after the layers.
  const { tmpDir, dockerHost, podman } = options;
  const registry = options.destRegistry;
  const intent = { force, compression, verify: options.verify === true, dockerHost, podman, tags, registry };
  const plan = await sink.prepare(destRef, intent);
  const sourceOptions = {
    platform,
    tmpDir,
    stdin: options.stdin,
    dockerHost,
    podman,
    registry: options.sourceRegistry,
  };
  const opened = await openSource(sourceRef, sourceOptions);
  try {
    const { image } = opened;
    const keep = keepCount(image, options);
    const verify = options.verify === true || plan.exists;
    const notes: string[] = [];
    if (keep === image.layers.length) {
      notes.push(`nothing above the ${keep} kept layers to squash: the image is written unchanged`);
    }
    const beforeCommit = verify ? (staged: ImageReference) => verifyOutput(image, staged, options) : undefined;
    const sinkOptions = {
      compression,
      force,
      tmpDir,
      stdout: options.stdout,
      dockerHost,
      beforeCommit,
      podman,
      tags,
      registry,
    };
    const squash = keep < image.layers.length;
    const tool = `layerflat ${VERSION}`;
    const config = squash ? flatConfig(image.config, { keep, layerCount: image.layers.length, tool }) : image.config;
    const outputTags = tags.length > 0 ? tags : [...image.tags];
    /** Plan (when the sink streams), then write, the flat layer of `run`. */
    const write = async (run: FlatLayer) => {
      if (!squash) await run.checkBase(); // the copies are all there is: what they hold is checked too
      const size = plan.wantsLayerSizes && squash ? await run.plannedSize() : undefined;
      const output: OutputImage = {
        config,
        layers: [
          ...image.layers
            .slice(0, keep)
            .map((layer, i) => ({ kind: 'copy' as const, layer, where: layerWhere(image, i) })),
          ...(squash ? [{ kind: 'new' as const, size, open: (o?: OpenNewLayerOptions) => run.open(o) }] : []),
        ],
        tags: outputTags,
      };
      return sink.write(destRef, output, sinkOptions).catch((err: unknown) => {
        run.abandon(); // do not keep hashing input for a run that has failed
        throw err;
      });
    };
    let run = new FlatLayer(image, keep, options);
    let written: WriteResult;
    try {
      written = await write(run);
    } catch (err) {
      // A case the one-pass plan cannot carry, found before anything was put in place (a file's
      // metadata set by names that are hidden, a path under a symlink): plan it exactly instead.
      if (!(err instanceof ExactPlanNeeded)) throw err;
      run = new FlatLayer(image, keep, options, await run.exactOverrides());
      written = await write(run);
      notes.push(`planned exactly (a second read of the layers' headers): ${err.reason}`);
    }
    return result(options, image, keep, run, written, outputTags, verify, notes, started);
  } finally {
    await opened.close();
  }
}

/** -t names must be image names as Docker reads them ("repo[:tag]", lower case, no digest). */
function checkTags(tags: readonly string[]): string[] {
  for (const t of tags) {
    if (t.includes('@') || parseImageName(t) === undefined) {
      throw new LayerflatError(
        'USAGE',
        `-t ${JSON.stringify(t)} is not a valid image name (expected repo[:tag], lower-case repo)`,
      );
    }
  }
  return [...tags];
}

/**
 * The flat layer of one run: the squashed layers, read when the sink opens it — that is when the
 * sink says whether its chunks may come from reused buffers — and ending only once every source
 * layer's checks have passed, so a damaged layer fails the run before anything is put in place.
 */
class FlatLayer {
  readonly checks = new DigestChecks();
  readonly stats: LayerReadStats[];
  readonly progress: Progress;
  merge: MergeStats = emptyStats();
  private opened = false;
  private base: Promise<BaseScan | undefined> | undefined;
  private dedupeScan: Promise<DedupeScan | undefined> | undefined;

  constructor(
    private readonly image: Image,
    private readonly keep: number,
    private readonly options: FlattenOptions,
    private readonly overrides?: Overrides,
  ) {
    this.stats = image.layers.map(() => ({ tarBytes: 0, passes: 0 }));
    this.progress = new Progress(
      options.onProgress,
      this.stats.map((stats, i) => ({ stats, size: image.layers[i]!.size })),
    );
  }

  /** --keep-base: the whiteouts the flat layer opens with, from the base's and the squashed layers' headers. */
  private baseScan(): Promise<BaseScan | undefined> {
    const { keep } = this;
    const exact = this.overrides !== undefined;
    this.base ??= keep > 0 ? baseMarkers(this.headers(0, keep), this.headers(keep), exact) : Promise.resolve(undefined);
    return this.base;
  }

  /**
   * Nothing to squash: each copy checks its blob's digest, and a plain blob's diff_id by the same
   * hash, but not what a compressed blob holds; read those once, checked, as planning would.
   */
  async checkBase(): Promise<void> {
    const { image } = this;
    for (const [i, tar] of this.layers(0, this.keep, {}).entries()) {
      const { digest, diffId } = image.layers[i]!;
      if (digest && diffId && !digest.equals(diffId)) for await (const _ of tar.entries());
    }
  }

  private layers(from: number, to: number, o: { ring?: BufferRing; checks?: DigestChecks }): PlanLayer<TarReadItem>[] {
    const { image } = this;
    return image.layers.slice(from, to).map((l, k) => {
      const i = from + k;
      const tar = layerTar(l, layerWhere(image, i), { stats: this.stats[i], ...o });
      return overridden(tar, this.overrides?.get(i), rewriteTarItem);
    });
  }

  /**
   * Headers only, for planning (nothing read here is written). Kept base layers are copied as
   * stored; the exact plan's overrides for them say only where their names landed.
   */
  private headers(from: number, to = this.image.layers.length): PlanLayer<TarReadItem>[] {
    const { image } = this;
    return image.layers
      .slice(from, to)
      .map((l, k) =>
        overridden(layerHeaders(l, layerWhere(image, from + k)), this.overrides?.get(from + k), rewriteTarItem),
      );
  }

  /** What the exact plan must change, from every layer's headers (merge/exact.ts). */
  exactOverrides(): Promise<Overrides> {
    const { image } = this;
    const headers = image.layers.map((l, i) => layerHeaders(l, layerWhere(image, i)));
    return exactOverrides(headers, this.keep);
  }

  /**
   * The flat layer's exact size, by planning alone (tar headers only, read in place where the
   * layers are plain tars in a file) — what lets an archive on stdout stream with no temporary copy.
   */
  async plannedSize(): Promise<number> {
    const exact = this.overrides !== undefined;
    const dedupe = (await this.dedupe())?.links;
    return measureMerge(this.headers(this.keep), { base: await this.baseScan(), exact, dedupe });
  }

  /** --dedupe: the files written as links, from a pass over headers and one over grouped files' data. */
  dedupe(): Promise<DedupeScan | undefined> {
    if (!this.options.dedupe) return Promise.resolve(undefined);
    this.dedupeScan ??= (async () => {
      const options = { base: await this.baseScan(), exact: this.overrides !== undefined };
      const all = this.image.layers.length;
      return findDuplicates(planMerge(this.headers(this.keep), options), () =>
        planMerge(this.layers(this.keep, all, {}), options),
      );
    })();
    return this.dedupeScan;
  }

  async open(o: OpenNewLayerOptions = {}): Promise<AsyncIterable<Buffer>> {
    if (this.opened) throw new Error('the flat layer opens once');
    this.opened = true;
    const ring = o.chunksMayBeReused ? (this.options.readRing ?? new BufferRing()) : undefined;
    const layers = this.layers(this.keep, this.image.layers.length, { ring, checks: this.checks });
    const dedupe = (await this.dedupe())?.links;
    const merged = mergeLayers(layers, {
      dedupe,
      base: await this.baseScan(),
      onLayer: (i) => this.progress.layerStarted(this.keep + i),
      exact: this.overrides !== undefined,
    });
    this.merge = merged.stats;
    return this.checkedAtEnd(this.progress.watch(merged.stream, merged.stats));
  }

  abandon(): void {
    this.checks.abandon();
  }

  /** The flat layer's bytes, ending only once every source layer's check has passed. */
  private async *checkedAtEnd(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    yield* chunks;
    await this.checks.settle();
  }
}

/** --verify: the staged output must show the same filesystem as the source, or nothing is written. */
async function verifyOutput(image: Image, staged: ImageReference, options: FlattenOptions): Promise<void> {
  const source = await viewOfImage(image);
  const { tmpDir, dockerHost, podman, destRegistry: registry } = options;
  const flat = await viewOfReference(staged, { tmpDir, dockerHost, podman, registry });
  const differences = compareViews(source, flat, { deduped: options.dedupe === true });
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

function result(
  o: FlattenOptions,
  image: Image,
  keep: number,
  run: FlatLayer,
  written: WriteResult,
  tags: readonly string[],
  verified: boolean,
  notes: string[],
  started: number,
): FlattenResult {
  const stats = run.merge;
  const squashed = keep < image.layers.length;
  return {
    source: o.source,
    dest: o.dest ?? '-',
    layersIn: image.layers.length,
    layersOut: squashed ? keep + 1 : keep,
    keptBase: keep,
    entries: {
      in: stats.entriesIn,
      kept: stats.entriesKept,
      dropped: stats.dropped,
      hardlinksRehomed: stats.hardlinksRehomed,
      whiteoutsWritten: stats.whiteoutsWritten,
      deduped: { ...stats.deduped },
    },
    bytes: {
      tarIn: run.stats.reduce((s, l) => s + l.tarBytes, 0),
      tarOut: stats.bytesOut,
      written: written.bytesWritten,
    },
    layerPasses: run.stats.reduce((s, l) => s + l.passes, 0),
    manifestDigest: String(written.manifestDigest),
    configDigest: String(written.configDigest),
    layers: written.layers.map((l) => ({ ...l, digest: String(l.digest), diffId: String(l.diffId) })),
    tags: [...(written.names ?? tags)],
    verified,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
