/**
 * The inspect use case: open an image, read each layer once bottom-up (headers only: file data
 * is skipped, never extracted), and report per layer and in total what it costs, above all on
 * VFS storage where every layer is a full copy of the filesystem.
 */
import { parsePlatform } from '../image/platform.js';
import type { Image } from '../image/types.js';
import { layerTar, layerWhere, type LayerReadStats } from '../layers/layer-tar.js';
import type { Readable } from 'node:stream';
import type { RegistryOptions } from '../transports/registry/client.js';
import { openSource } from '../transports/index.js';
import { parseReference } from '../transports/reference.js';
import { findImageDuplicates } from '../flatten/dedupe.js';
import { layerHeaders } from '../layers/headers.js';
import { exactOverrides } from '../merge/exact.js';
import { ExactPlanNeeded } from '../merge/planner.js';
import { LayerAnalysis, vfsCost } from './analyze.js';
import { layerCommands } from './history.js';
import type { InspectResult, LayerFsStats, LayerReport } from './types.js';

export interface InspectOptions {
  /** Source reference: "docker-archive:PATH[:REF]", "oci:DIR[:REF]", "oci-archive:…", a path or "-". */
  source: string;
  /** "os/arch[/variant]" to pick from a multi-platform index; default: the host's. */
  platform?: string;
  /** Where to spool stdin; default: the OS temp dir. */
  tmpDir?: string;
  /** How many of the largest shadowed files to list (default 10). */
  top?: number;
  /** What a source "-" reads. */
  stdin?: Readable;
  /** The Docker daemon for docker-daemon: references (a DOCKER_HOST value). */
  dockerHost?: string;
  /** The podman program for containers-storage: (default: "podman" on PATH). */
  podman?: string;
  /** Credentials, TLS and environment for a docker:// source. */
  registry?: RegistryOptions;
  /** Also say what `flatten --dedupe` would save (reads the data of same-sized files: a second pass). */
  dedupe?: boolean;
}

/** Inspect the image `options.source` names. Errors: those of opening and reading it. */
export async function inspect(options: InspectOptions): Promise<InspectResult> {
  const platform = options.platform ? parsePlatform(options.platform) : undefined;
  const ref = parseReference(options.source, 'source');
  const { tmpDir, stdin, dockerHost, podman, registry } = options;
  const opened = await openSource(ref, { platform, tmpDir, stdin, dockerHost, podman, registry });
  try {
    const result = await inspectImage(opened.image, options.source, options.top);
    if (options.dedupe) result.dedupe = await dedupeSavings(opened.image);
    return result;
  } finally {
    await opened.close();
  }
}

/** What `flatten --dedupe` would store as hardlinks: the same scan, over every layer. */
async function dedupeSavings(image: Image): Promise<{ files: number; bytes: number }> {
  let scan;
  try {
    scan = await findImageDuplicates(image);
  } catch (err) {
    if (!(err instanceof ExactPlanNeeded)) throw err;
    const headers = image.layers.map((l, i) => layerHeaders(l, layerWhere(image, i)));
    scan = await findImageDuplicates(image, await exactOverrides(headers, 0));
  }
  return { files: scan.files, bytes: scan.bytes };
}

/** Inspect an opened image; `source` is how the user named it. */
export async function inspectImage(image: Image, source: string, top = 10): Promise<InspectResult> {
  const started = process.hrtime.bigint();
  const analysis = new LayerAnalysis(top);
  const commands = layerCommands(image.config.history, image.layers.length);
  const read: Omit<LayerReport, keyof LayerFsStats>[] = [];
  for (const [i, layer] of image.layers.entries()) {
    const where = layerWhere(image, i);
    const stats: LayerReadStats = { tarBytes: 0, passes: 0 };
    analysis.startLayer(i, where);
    for await (const { entry } of layerTar(layer, where, { stats }).entries()) analysis.entry(entry);
    analysis.endLayer();
    read.push({
      index: i,
      digest: layer.digest?.toString(),
      diffId: String(layer.diffId),
      createdBy: commands[i],
      compressedBytes: layer.size ?? stats.tarBytes,
      compression: stats.compression,
      tarBytes: stats.tarBytes,
    });
  }
  // Joined only now: a layer's wasted bytes are known once the layers above it have been read.
  const layers: LayerReport[] = read.map((r, i) => ({ ...r, ...analysis.layers[i]! }));
  const sum = (key: 'compressedBytes' | 'tarBytes' | 'contentBytes' | 'wastedBytes') =>
    layers.reduce((n, l) => n + l[key], 0);
  const last = layers.at(-1);
  return {
    source,
    origin: image.origin,
    tags: [...image.tags],
    layers,
    totals: {
      layers: layers.length,
      compressedBytes: sum('compressedBytes'),
      tarBytes: sum('tarBytes'),
      contentBytes: sum('contentBytes'),
      mergedBytes: last?.mergedBytes ?? 0,
      mergedFiles: last?.mergedFiles ?? 0,
      wastedBytes: sum('wastedBytes'),
    },
    vfs: vfsCost(layers),
    shadowed: analysis.shadowed(),
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}
