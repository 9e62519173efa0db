/**
 * Reading one image from an OCI layout held in a FileTree — a directory (oci:), a tar file
 * (oci-archive:), or the OCI layout inside a docker-archive that lacks manifest.json. Every blob
 * is checked against its descriptor: documents here when read, layers by layers/read.ts.
 */
import { LayerflatError } from '../../errors.js';
import { Digest } from '../../image/digest.js';
import { compressionOfMediaType, isConfigMediaType } from '../../image/media-types.js';
import { parseConfig, parseIndex, parseManifest } from '../../image/manifest.js';
import { familiarImageName } from '../../image/name.js';
import type { Descriptor, Image, Layer, Platform } from '../../image/types.js';
import { BlobStore } from './blob-store.js';
import type { FileTree } from '../file-tree.js';
import { selectManifest, type SelectedManifest } from './select.js';

export interface OciReadOptions {
  ref?: string;
  platform?: Platform;
  /** Insist on the oci-layout marker file (archives may lack it); when present it is checked. */
  requireLayoutFile: boolean;
  /** Where the image came from, for Image.origin ("oci:/x:latest"). */
  origin: string;
}

async function checkLayoutFile(tree: FileTree, required: boolean): Promise<void> {
  if (!tree.has('oci-layout')) {
    if (!required) return;
    throw new LayerflatError('BAD_MANIFEST', `${tree.where}: not an OCI layout (no oci-layout file)`);
  }
  const layout = await tree.readJSON('oci-layout');
  const version = (layout as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw new LayerflatError(
      'UNSUPPORTED',
      `${tree.where}: oci-layout version ${JSON.stringify(version)} is not supported (1.x is)`,
    );
  }
}

function layerOf(store: BlobStore, d: Descriptor, diffId: string, i: number): Layer {
  const what = `layer ${i}`;
  if (compressionOfMediaType(d.mediaType) === undefined) {
    throw new LayerflatError(
      'UNKNOWN_MEDIA_TYPE',
      `${store.tree.where}: ${what} has media type ${d.mediaType}, which is not a layer type layerflat can read`,
    );
  }
  return {
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    diffId: Digest.parse(diffId),
    source: store.source(d, what),
  };
}

/** The names an index entry gave the image: the full image name (short form) and the ref name. */
function tagsOf(selected: SelectedManifest): string[] {
  const names = [selected.imageName && familiarImageName(selected.imageName), selected.refName];
  return [...new Set(names.filter((n): n is string => typeof n === 'string' && n !== ''))];
}

/**
 * Read the image `options.ref` (and platform) selects from the layout in `tree`. Errors:
 * BAD_MANIFEST / UNKNOWN_MEDIA_TYPE for invalid documents, NOT_FOUND for missing blobs,
 * DIGEST_MISMATCH / SIZE_MISMATCH for damaged documents, and those of selectManifest.
 */
export async function readOciImage(tree: FileTree, options: OciReadOptions): Promise<Image> {
  await checkLayoutFile(tree, options.requireLayoutFile);
  const index = parseIndex(await tree.readJSON('index.json'), `${tree.where}: index.json`);
  const store = new BlobStore(tree);
  const selected = await selectManifest(store, index, {
    ...(options.ref !== undefined ? { ref: options.ref } : {}),
    ...(options.platform ? { platform: options.platform } : {}),
  });
  const manifestWhere = `${tree.where}: manifest ${selected.descriptor.digest}`;
  const manifest = parseManifest(await store.readJSON(selected.descriptor, 'manifest'), manifestWhere);
  if (!isConfigMediaType(manifest.config.mediaType)) {
    throw new LayerflatError(
      'UNKNOWN_MEDIA_TYPE',
      `${manifestWhere}: config media type ${manifest.config.mediaType} is not an image config (an artifact?)`,
    );
  }
  const config = parseConfig(
    await store.readJSON(manifest.config, 'config'),
    `${tree.where}: config ${manifest.config.digest}`,
  );
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new LayerflatError(
      'BAD_MANIFEST',
      `${manifestWhere}: ${manifest.layers.length} layers but the config lists ${diffIds.length} diff_ids`,
    );
  }
  const layers = manifest.layers.map((d, i) => layerOf(store, d, diffIds[i]!, i));
  return { config, layers, tags: tagsOf(selected), origin: options.origin };
}
