/**
 * Choosing one image manifest from an OCI index.json: by REF (the ref.name annotation, the
 * containerd image name, a digest, or "@N"), through nested indexes (Docker's containerd-store
 * `docker save` wraps each image's index in the top one), then by platform. Failures list what
 * IS there, so the user can retry with the right :REF or --platform.
 */
import { LayerflatError } from '../../errors.js';
import {
  ANNOTATION_CONTAINERD_NAME,
  ANNOTATION_DOCKER_REFERENCE_TYPE,
  ANNOTATION_REF_NAME,
  isIndexMediaType,
  isManifestMediaType,
} from '../../image/media-types.js';
import { parseIndex, type ImageIndex } from '../../image/manifest.js';
import { familiarImageName, hasExplicitTag, sameImageName } from '../../image/name.js';
import { formatPlatform, hostPlatform, platformMatches } from '../../image/platform.js';
import type { Descriptor, Platform } from '../../image/types.js';
import type { BlobStore } from './blob-store.js';

/** The chosen manifest and the names its top-level index entry gave it. */
export interface SelectedManifest {
  descriptor: Descriptor;
  /** org.opencontainers.image.ref.name of the top-level entry, if any. */
  refName?: string;
  /** io.containerd.image.name of the top-level entry, if any (as stored). */
  imageName?: string;
}

export interface SelectOptions {
  ref?: string;
  /** Explicit --platform; without it the host's is preferred. */
  platform?: Platform;
}

interface Leaf {
  top: number;
  descriptor: Descriptor;
}

/** "@0 busybox:latest (latest) sha256:0123456789ab". */
function describeTop(d: Descriptor, i: number): string {
  const a = d.annotations ?? {};
  const names = [
    a[ANNOTATION_CONTAINERD_NAME] && familiarImageName(a[ANNOTATION_CONTAINERD_NAME]),
    a[ANNOTATION_REF_NAME],
  ].filter(Boolean);
  return `@${i} ${names.length ? names.join(' / ') : '(unnamed)'} ${d.digest.short()}`;
}

function matchesRef(d: Descriptor, ref: string): boolean {
  const a = d.annotations ?? {};
  const refName = a[ANNOTATION_REF_NAME];
  const imageName = a[ANNOTATION_CONTAINERD_NAME];
  if (ref.startsWith('sha256:')) return d.digest.startsWith(ref);
  if (refName === ref) return true;
  if (imageName && sameImageName(imageName, ref)) return true;
  return refName !== undefined && hasExplicitTag(refName) && sameImageName(refName, ref);
}

function candidates(index: ImageIndex, ref: string | undefined, where: string): number[] {
  const all = index.manifests.map((_, i) => i);
  if (ref === undefined) return all;
  const at = /^@(\d+)$/.exec(ref);
  const found = at ? all.filter((i) => i === Number(at[1])) : all.filter((i) => matchesRef(index.manifests[i]!, ref));
  if (found.length === 0) {
    const there = index.manifests.map(describeTop);
    throw new LayerflatError(
      'REF_NOT_FOUND',
      `${where}: no image "${ref}"; it has: ${there.length ? there.join('; ') : 'no images'}`,
    );
  }
  return found;
}

function isAttestation(d: Descriptor): boolean {
  return d.annotations?.[ANNOTATION_DOCKER_REFERENCE_TYPE] === 'attestation-manifest' || d.platform?.os === 'unknown';
}

/**
 * Expand an entry to its image manifests, reading nested indexes (which must be present).
 * Entries of other media types (artifacts, signatures) are noted in `skipped`, not followed.
 */
async function leavesOf(
  store: BlobStore,
  d: Descriptor,
  top: number,
  depth: number,
  skipped: string[],
): Promise<Leaf[]> {
  if (isManifestMediaType(d.mediaType)) return isAttestation(d) ? [] : [{ top, descriptor: d }];
  if (!isIndexMediaType(d.mediaType) || depth > 4) {
    skipped.push(d.mediaType);
    return [];
  }
  const nested = parseIndex(await store.readJSON(d, 'index'), `${store.tree.where}: index ${d.digest}`);
  const out: Leaf[] = [];
  for (const m of nested.manifests) out.push(...(await leavesOf(store, m, top, depth + 1, skipped)));
  return out;
}

function ambiguous(index: ImageIndex, tops: number[], where: string, ref?: string): LayerflatError {
  const list = tops.map((i) => describeTop(index.manifests[i]!, i)).join('; ');
  const what = ref === undefined ? 'several images' : `several images match "${ref}"`;
  return new LayerflatError(
    'AMBIGUOUS_REF',
    `${where}: ${what}: ${list}; choose one by adding :REF (a name, a digest or @N)`,
  );
}

function byPlatform(store: BlobStore, leaves: Leaf[], options: SelectOptions): Leaf {
  const present = leaves.filter((l) => store.has(l.descriptor));
  const want = options.platform ?? hostPlatform();
  const match = present.find((l) => !l.descriptor.platform || platformMatches(want, l.descriptor.platform));
  if (match) return match;
  const distinct = new Set(present.map((l) => String(l.descriptor.digest)));
  // The only one saved: not the host's, still what was meant.
  if (!options.platform && distinct.size === 1) return present[0]!;
  const listed = (ls: Leaf[]) =>
    ls.map((l) => (l.descriptor.platform ? formatPlatform(l.descriptor.platform) : 'unknown')).join(', ');
  const absent = leaves.filter((l) => !present.includes(l));
  if (present.length === 0) {
    throw new LayerflatError(
      'NOT_FOUND',
      `${store.tree.where}: no image manifest is present` +
        (absent.length ? ` (listed but missing: ${listed(absent)})` : ''),
    );
  }
  const also = absent.length ? `; listed without their blobs: ${listed(absent)}` : '';
  throw new LayerflatError(
    'PLATFORM_NOT_FOUND',
    `${store.tree.where}: no image for platform ${formatPlatform(want)}; ` +
      `it has: ${listed(present)}${also}; choose with --platform`,
  );
}

/**
 * The entries of `tops` that make one image, or AMBIGUOUS_REF. Entries naming the same manifest
 * (two tags of one image) are one image; so are unnamed per-platform entries (an index written
 * flat, without a nested one).
 */
function oneImage(index: ImageIndex, tops: number[], where: string, ref?: string): number[] {
  const digestOf = (i: number) => String(index.manifests[i]!.digest);
  const distinct = tops.filter((i, k) => tops.findIndex((j) => digestOf(j) === digestOf(i)) === k);
  const unnamedPlatforms = distinct.every(
    (i) => index.manifests[i]!.platform && !index.manifests[i]!.annotations?.[ANNOTATION_REF_NAME],
  );
  if (distinct.length > 1 && !unnamedPlatforms) throw ambiguous(index, distinct, where, ref);
  return distinct;
}

/**
 * Select one image manifest from `index` as described in the module comment. Errors:
 * REF_NOT_FOUND, AMBIGUOUS_REF (several images and no or an ambiguous REF), PLATFORM_NOT_FOUND,
 * NOT_FOUND (nothing listed is present).
 */
export async function selectManifest(
  store: BlobStore,
  index: ImageIndex,
  options: SelectOptions,
): Promise<SelectedManifest> {
  const where = store.tree.where;
  const distinctTops = oneImage(index, candidates(index, options.ref, where), where, options.ref);
  const leaves: Leaf[] = [];
  const skipped: string[] = [];
  for (const i of distinctTops) leaves.push(...(await leavesOf(store, index.manifests[i]!, i, 0, skipped)));
  if (leaves.length === 0 && skipped.length > 0) {
    throw new LayerflatError(
      'UNKNOWN_MEDIA_TYPE',
      `${where}: no container image here, only ${[...new Set(skipped)].join(', ')}`,
    );
  }
  const chosen = byPlatform(store, leaves, options);
  const a = index.manifests[chosen.top]!.annotations ?? {};
  const refName = a[ANNOTATION_REF_NAME];
  const imageName = a[ANNOTATION_CONTAINERD_NAME];
  return { descriptor: chosen.descriptor, ...(refName ? { refName } : {}), ...(imageName ? { imageName } : {}) };
}
