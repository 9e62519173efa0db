/**
 * An image in a registry as a Source (`docker://…`): the manifest (an index or manifest list is
 * resolved by --platform, or the host's), the config, checked against their digests, and layers
 * whose bytes stream over HTTP only when the merge reads them — checked as they arrive by
 * layers/read.ts against the manifest's digest and size, like every other streamed blob. Nothing
 * is downloaded to disk.
 *
 * The merge reads layers top-down, so when layer i is opened the next ones down (i-1, i-2) start
 * arriving too, each read ahead into memory up to READ_AHEAD_BYTES (p-limit keeps at most
 * READ_AHEAD_LAYERS of them going): at most 32 MiB held, and the network overlaps the merge.
 */
import pLimit from 'p-limit';
import { ReadAhead } from '../../bytes/read-ahead.js';
import { LayerflatError } from '../../errors.js';
import { Digest } from '../../image/digest.js';
import { parseConfig, parseIndex, parseJSONBytes, parseManifest, type ImageIndex } from '../../image/manifest.js';
import { isConfigMediaType, isIndexMediaType, isManifestMediaType } from '../../image/media-types.js';
import { formatPlatform, hostPlatform, platformMatches } from '../../image/platform.js';
import type { Descriptor, Layer, Platform } from '../../image/types.js';
import type { ImageReference, OpenedImage, Source, SourceOptions } from '../types.js';
import { RegistryClient } from './client.js';
import { isDigestRef, type RegistryImage } from './reference.js';

const READ_AHEAD_LAYERS = 2;
const READ_AHEAD_BYTES = 16 << 20;

export const registrySource: Source = {
  async open(ref: ImageReference, options: SourceOptions): Promise<OpenedImage> {
    const image = registryImageOf(ref);
    const client = new RegistryClient(image, options.registry);
    const where = client.name;
    let fetched = await client.manifest(image.ref);
    if (isIndexMediaType(fetched.mediaType)) {
      const index = parseIndex(parseJSONBytes(fetched.bytes, where), where);
      const chosen = byPlatform(index, options.platform, where);
      fetched = await client.manifest(String(chosen.digest), chosen.digest);
    }
    if (!isManifestMediaType(fetched.mediaType)) {
      throw new LayerflatError(
        'UNKNOWN_MEDIA_TYPE',
        `${where}: ${fetched.mediaType || 'no media type'} is not an image manifest`,
      );
    }
    const manifestWhere = `${where} (manifest ${fetched.digest.short()})`;
    const manifest = parseManifest(parseJSONBytes(fetched.bytes, manifestWhere), manifestWhere);
    if (!isConfigMediaType(manifest.config.mediaType)) {
      throw new LayerflatError(
        'UNKNOWN_MEDIA_TYPE',
        `${manifestWhere}: config media type ${manifest.config.mediaType} is not an image config (an artifact?)`,
      );
    }
    const configWhere = `${where}: config ${manifest.config.digest.short()}`;
    const configBytes = await client.smallBlob(manifest.config.digest, manifest.config.size, configWhere);
    const config = parseConfig(parseJSONBytes(configBytes, configWhere), configWhere);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new LayerflatError(
        'BAD_MANIFEST',
        `${manifestWhere}: ${manifest.layers.length} layers but the config lists ${diffIds.length} diff_ids`,
      );
    }
    const reads = new LayerReads(client, manifest.layers);
    const layers: Layer[] = manifest.layers.map((d, i) => ({
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
      diffId: Digest.parse(diffIds[i]),
      origin: { registry: image.registry, repository: image.repository },
      source: { stream: () => reads.open(i) },
    }));
    const tags = isDigestRef(image.ref) ? [] : [`${image.registry}/${image.repository}:${image.ref}`];
    return { image: { config, layers, tags, origin: where }, close: async () => reads.close() };
  },
};

export function registryImageOf(ref: ImageReference): RegistryImage {
  if (!ref.registry) throw new Error(`not a docker:// reference: ${ref.path}`);
  return ref.registry;
}

/** The manifest of an index for `want` (or the host's platform). */
function byPlatform(index: ImageIndex, want: Platform | undefined, where: string): Descriptor {
  const images = index.manifests.filter((d) => isManifestMediaType(d.mediaType) && d.platform?.os !== 'unknown');
  const target = want ?? hostPlatform();
  const match = images.find((d) => d.platform && platformMatches(target, d.platform));
  if (match) return match;
  if (!want && images.length === 1) return images[0]!;
  const listed = images.map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ');
  throw new LayerflatError(
    'PLATFORM_NOT_FOUND',
    `${where}: no image for platform ${formatPlatform(target)}; it has: ${listed || 'none'}; choose with --platform`,
  );
}

/**
 * Each layer's bytes, from the registry, as the merge asks for them, with the ones below read
 * ahead. A layer read a second time (an exact plan, --verify) is fetched again.
 */
class LayerReads {
  private readonly ahead = new Map<number, ReadAhead>();
  private readonly opened = new Set<number>();
  private readonly limit = pLimit(READ_AHEAD_LAYERS);
  private closed = false;

  constructor(
    private readonly client: RegistryClient,
    private readonly layers: readonly Descriptor[],
  ) {}

  open(i: number): AsyncIterable<Buffer> {
    const first = !this.opened.has(i);
    this.opened.add(i);
    const early = this.ahead.get(i);
    this.ahead.delete(i);
    if (first) this.readAheadBelow(i);
    return early ? early.chunks() : this.client.blob(this.layers[i]!.digest, 0);
  }

  private readAheadBelow(i: number): void {
    for (let k = i - 1; k >= Math.max(0, i - READ_AHEAD_LAYERS); k--) {
      if (this.closed || this.opened.has(k) || this.ahead.has(k)) continue;
      this.ahead.set(k, new ReadAhead(this.limited(k), READ_AHEAD_BYTES));
    }
  }

  /** Layer k's bytes, holding one of the read-ahead slots while they flow. */
  private async *limited(k: number): AsyncGenerator<Buffer> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await new Promise<void>((started) => void this.limit(() => (started(), held)));
    try {
      if (!this.closed) yield* this.client.blob(this.layers[k]!.digest, 0);
    } finally {
      release();
    }
  }

  close(): void {
    this.closed = true;
    for (const r of this.ahead.values()) r.cancel();
    this.ahead.clear();
  }
}
