/**
 * The unpack use case: the image's layers applied into one rootfs directory — the filesystem
 * `docker export` shows, on disk, for `podman run --rootfs DIR`.
 *
 * Why through the flat plan, not layer by layer on disk: the merge planner (merge/) already
 * knows, reading the layers top-down once each, which entry of which layer survives, so the
 * rootfs gets each surviving file written once, straight from the layer that holds it. Applying
 * the layers bottom-up on disk instead would write every file every layer has (a file replaced
 * ten times is written ten times), delete on disk what upper layers whiteout, and need the same
 * path-resolution rules on top. The flat plan is what flatten writes as one layer, so the rootfs
 * is by construction the filesystem of the flat image, which verify checks against the engines'
 * model. Each layer is read once, checked against its digest as it streams; nothing layered is
 * stored. The rare image one pass cannot plan (ExactPlanNeeded: a path under a symlink of its
 * own layer, say) found mid-way empties DIR and starts again with the exact plan, as flatten does.
 */
import type { Readable } from 'node:stream';
import { BufferRing } from '../bytes/ring.js';
import { LayerflatError } from '../errors.js';
import type { EntryMeta } from '../engine/meta.js';
import { parsePlatform } from '../image/platform.js';
import type { Image } from '../image/types.js';
import { layerHeaders } from '../layers/headers.js';
import { DigestChecks, layerTar, layerWhere, type LayerReadStats } from '../layers/layer-tar.js';
import { exactOverrides, overridden, rewriteTarItem, type Overrides } from '../merge/exact.js';
import { withDedupe } from '../merge/dedupe.js';
import { planMerge, type PlanAction } from '../merge/plan.js';
import { ExactPlanNeeded } from '../merge/planner.js';
import type { TarReadItem } from '../tar/reader.js';
import {
  abandonRootfs,
  claimRootfs,
  completeRootfs,
  emptyRootfs,
  type RootfsDestination,
} from '../transports/dir/destination.js';
import { ownershipOfProcess, type Ownership } from '../transports/dir/owners.js';
import { RootfsWriter, type RootfsEntry, type RootfsStats } from '../transports/dir/rootfs.js';
import { openSource } from '../transports/index.js';
import { parseReference } from '../transports/reference.js';
import type { RegistryOptions } from '../transports/registry/client.js';
import { findImageDuplicates } from '../flatten/dedupe.js';
import { Progress, type FlattenProgress } from '../flatten/progress.js';

/** Progress of an unpack: as flatten's, `bytesOut` being the file content written. */
export type UnpackProgress = FlattenProgress;

export interface UnpackOptions {
  /** Source reference, any flatten reads: "docker-archive:PATH[:REF]", "oci:DIR[:REF]", "docker://…", "-", … */
  source: string;
  /** The rootfs directory: absent (it is made) or empty (then `force` must say so). */
  dir: string;
  /** Unpack into an existing empty DIR. */
  force?: boolean;
  /** "os/arch[/variant]" to pick from a multi-platform index; default: the host's. */
  platform?: string;
  /**
   * Give every path its owner from the image (default). false: leave them to whoever runs the
   * unpack — the only way without root or a user namespace, said in `warnings`.
   */
  chown?: boolean;
  /** Set extended attributes (default; needs the setfattr program when the image has any). */
  xattrs?: boolean;
  /** Where to spool stdin (and docker-daemon: / containers-storage: archives); default: the OS temp dir. */
  tmpDir?: string;
  /** What a source "-" reads. */
  stdin?: Readable;
  /** The Docker daemon for docker-daemon: (a DOCKER_HOST value). */
  dockerHost?: string;
  /** The podman program for containers-storage: (default: "podman" on PATH). */
  podman?: string;
  /** Credentials, TLS and environment for a docker:// source. */
  registry?: RegistryOptions;
  /** Identical regular files as hardlinks of one (as flatten --dedupe: one mtime, one inode). */
  dedupe?: boolean;
  onProgress?: (p: UnpackProgress) => void;
}

export interface UnpackResult extends RootfsStats {
  source: string;
  /** The rootfs directory, absolute. */
  dir: string;
  layers: number;
  /** Uncompressed layer tar bytes read, over every pass. */
  tarBytesIn: number;
  layerPasses: number;
  /** Whether the paths have the image's owners ('kept') or the unpacking user's ('dropped', --no-chown). */
  owners: 'kept' | 'dropped';
  /** The unpack ran in a user namespace (podman unshare): owners are ids of that namespace. */
  userNamespace: boolean;
  /** --dedupe: files made hardlinks of an identical file, and the bytes not written for them. */
  deduped: { files: number; bytes: number };
  /** What the rootfs lacks that the image has (devices skipped, owners dropped, xattrs not set). */
  warnings: string[];
  notes: string[];
  seconds: number;
}

/**
 * Unpack one image into DIR. Throws LayerflatError; on an error what was written is removed
 * (DIR too when this call made it), and a killed run leaves DIR marked incomplete.
 */
export async function unpack(options: UnpackOptions): Promise<UnpackResult> {
  const started = performance.now();
  const ref = parseReference(options.source, 'source');
  const platform = options.platform ? parsePlatform(options.platform) : undefined;
  const ownership = ownershipOfProcess(options.chown === false, `layerflat unpack ${options.source} ${options.dir}`);
  const dest = await claimRootfs(options.dir, { force: options.force === true, source: options.source });
  try {
    const { tmpDir, stdin, dockerHost, podman, registry } = options;
    const opened = await openSource(ref, { platform, tmpDir, stdin, dockerHost, podman, registry });
    try {
      const run = await unpackImage(opened.image, dest, ownership, options);
      await completeRootfs(dest);
      return result(options, opened.image, dest, ownership, run, started);
    } finally {
      await opened.close();
    }
  } catch (err) {
    if (await abandonRootfs(dest)) throw err;
    if (!(err instanceof LayerflatError)) throw err;
    const left = `; ${dest.dir} could not be removed and stays marked incomplete (${dest.marker})`;
    throw new LayerflatError(err.code, `${err.message}${left}`, { cause: err, located: err.located });
  }
}

interface Run {
  stats: RootfsStats;
  /** Extended attributes not set, by why. */
  xattrSkips: ReadonlyMap<string, number>;
  deduped: { files: number; bytes: number };
  layers: LayerReadStats[];
  notes: string[];
}

async function unpackImage(image: Image, dest: RootfsDestination, own: Ownership, o: UnpackOptions): Promise<Run> {
  if (image.layers.length === 0) throw new LayerflatError('BAD_MANIFEST', `${image.origin}: the image has no layers`);
  const layers: LayerReadStats[] = image.layers.map(() => ({ tarBytes: 0, passes: 0 }));
  const progress = new Progress(
    o.onProgress,
    layers.map((stats, i) => ({ stats, size: image.layers[i]!.size })),
  );
  try {
    return { ...(await writeRootfs(image, dest, own, o, layers, progress)), layers, notes: [] };
  } catch (err) {
    if (!(err instanceof ExactPlanNeeded)) throw err;
    await emptyRootfs(dest);
    const headers = image.layers.map((l, i) => layerHeaders(l, layerWhere(image, i)));
    const overrides = await exactOverrides(headers);
    const written = await writeRootfs(image, dest, own, o, layers, progress, overrides);
    return { ...written, layers, notes: [`planned exactly (DIR emptied and written again): ${err.reason}`] };
  }
}

/** One pass of the flat plan into DIR, then the checks of every layer, then the metadata left for the end. */
async function writeRootfs(
  image: Image,
  dest: RootfsDestination,
  ownership: Ownership,
  o: UnpackOptions,
  stats: LayerReadStats[],
  progress: Progress,
  overrides?: Overrides,
): Promise<Pick<Run, 'stats' | 'xattrSkips' | 'deduped'>> {
  const checks = new DigestChecks();
  // Each chunk is written before the next is read, so plain layers may come through reused buffers.
  const ring = new BufferRing();
  const layers = image.layers.map((l, i) =>
    overridden(layerTar(l, layerWhere(image, i), { stats: stats[i], checks, ring }), overrides?.get(i), rewriteTarItem),
  );
  const exact = overrides !== undefined;
  const dedupe = o.dedupe ? await findImageDuplicates(image, overrides, stats) : undefined;
  const writer = new RootfsWriter(dest.real, { ownership, xattrs: o.xattrs !== false });
  try {
    const plan = withDedupe(planMerge(layers, { exact, onLayer: (i) => progress.layerStarted(i) }), dedupe?.links);
    for await (const action of plan) {
      const flat = flatEntry(action);
      if (!flat) continue;
      await writer.write(flat.entry, flat.body);
      progress.wrote(writer.stats.bytes);
    }
    await checks.settle(); // a layer that is not what its digest says fails the unpack before it is complete
  } catch (err) {
    checks.abandon();
    throw err;
  }
  const deduped = { files: dedupe?.files ?? 0, bytes: dedupe?.bytes ?? 0 };
  return { stats: await writer.finish(), xattrSkips: writer.xattrSkips, deduped };
}

/** What an action of the flat plan puts in the rootfs: an entry (and its data), or nothing. */
function flatEntry(
  action: PlanAction<TarReadItem>,
): { entry: RootfsEntry; body?: () => AsyncIterable<Buffer> } | undefined {
  switch (action.kind) {
    case 'drop':
      return undefined;
    case 'keep':
    case 'cross-link':
      return { entry: action.item.entry, body: action.item.body };
    case 'rehome':
      return { entry: withMeta({ ...action.item.entry, path: action.path }, action.meta), body: action.item.body };
    case 'link':
      return { entry: withMeta({ ...action.item.entry, linkname: action.linkname }, action.meta) };
    case 'dedupe': {
      const { linkname, mtime } = action;
      return { entry: { ...action.item.entry, type: 'hardlink', linkname, mtime, size: 0 } };
    }
    case 'marker':
      // A whiteout the flat layer keeps only for the directory engines make for it (it removes nothing).
      return { entry: { ...MARKER, path: action.path } };
  }
}

const MARKER: RootfsEntry = {
  path: '',
  type: 'file',
  linkname: '',
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 0,
  xattrs: new Map(),
  size: 0,
  devmajor: 0,
  devminor: 0,
  rooted: false,
};

/** An entry whose header must say `meta` (the file's metadata in the end): as rewriteTarItem writes it. */
function withMeta(entry: RootfsEntry, meta: EntryMeta | undefined): RootfsEntry {
  if (!meta) return entry;
  const { mode, uid, gid, mtime } = meta;
  return { ...entry, mode, uid, gid, mtime, xattrs: new Map([...entry.xattrs, ...meta.xattrs]) };
}

function result(
  o: UnpackOptions,
  image: Image,
  dest: RootfsDestination,
  ownership: Ownership,
  run: Run,
  started: number,
): UnpackResult {
  const s = run.stats;
  return {
    source: o.source,
    dir: dest.dir,
    layers: image.layers.length,
    ...s,
    tarBytesIn: run.layers.reduce((n, l) => n + l.tarBytes, 0),
    layerPasses: run.layers.reduce((n, l) => n + l.passes, 0),
    deduped: run.deduped,
    owners: ownership.chown ? 'kept' : 'dropped',
    userNamespace: ownership.userNamespace,
    warnings: warnings(run, ownership),
    notes: run.notes,
    seconds: (performance.now() - started) / 1000,
  };
}

/** One line per kind of loss, each said once. */
function warnings(run: Run, own: Ownership): string[] {
  const s = run.stats;
  const out: string[] = [];
  if (!own.chown) {
    out.push("--no-chown: every path belongs to the user who ran the unpack, not to the image's owners");
  }
  if (s.devicesSkipped > 0) {
    const why = own.privileged
      ? 'the kernel refused mknod (no CAP_MKNOD here)'
      : 'only root outside a user namespace can make device nodes (rootless podman skips them too)';
    out.push(`${s.devicesSkipped} device node(s) skipped: ${why}; podman run makes /dev itself`);
  }
  if (s.xattrsSkipped > 0) {
    const why = [...run.xattrSkips].map(([reason, n]) => (run.xattrSkips.size > 1 ? `${n} ${reason}` : reason));
    out.push(`${s.xattrsSkipped} extended attribute(s) not set: ${why.join('; ')}`);
  }
  return out;
}
