/**
 * Writing one image as OCI blobs — layers, config, manifest — into a BlobTarget (a directory or
 * an archive being written), learning every digest on the way. The index.json that names the
 * manifest is the caller's, since adding to an existing layout differs from writing a new one.
 */
import { Digest } from '../../image/digest.js';
import { withDiffIds, serializeConfig } from '../../image/config.js';
import {
  ANNOTATION_REF_NAME,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYOUT_VERSION,
  OCI_MANIFEST,
} from '../../image/media-types.js';
import type { Compression, Descriptor, ImageConfig, OutputImage, OutputLayer, WriteResult } from '../../image/types.js';
import type { WrittenLayer } from '../layer-output.js';

/** Where blobs go; both methods store the blob under "blobs/sha256/<hex>" (once per digest). */
export interface BlobTarget {
  putLayer(layer: OutputLayer, compression: Compression): Promise<WrittenLayer>;
  putBlob(data: Buffer): Promise<void>;
}

/** The manifest written and the WriteResult so far (bytesWritten counts blobs only). */
export interface WrittenImage {
  manifest: Descriptor;
  result: WriteResult;
}

/** The bytes of an "oci-layout" marker file. */
export const OCI_LAYOUT_FILE = Buffer.from(JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }));

function describe(mediaType: string, data: Buffer): Descriptor {
  return { mediaType, digest: Digest.of(data), size: data.length };
}

function platformOf(config: ImageConfig): Descriptor['platform'] {
  if (typeof config.os !== 'string' || typeof config.architecture !== 'string') return undefined;
  const variant = typeof config.variant === 'string' && config.variant ? { variant: config.variant } : {};
  return { architecture: config.architecture, os: config.os, ...variant };
}

/**
 * Write `image`'s layers (in order), its config with rootfs.diff_ids filled in, and an OCI
 * manifest. The returned manifest descriptor carries the platform from the config.
 */
export async function writeOciImage(
  target: BlobTarget,
  image: OutputImage,
  compression: Compression,
): Promise<WrittenImage> {
  const layers: WrittenLayer[] = [];
  for (const layer of image.layers) layers.push(await target.putLayer(layer, compression));
  const configBytes = serializeConfig(
    withDiffIds(
      image.config,
      layers.map((l) => String(l.diffId)),
    ),
  );
  const config = describe(OCI_CONFIG, configBytes);
  await target.putBlob(configBytes);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  const manifest = describe(OCI_MANIFEST, manifestBytes);
  await target.putBlob(manifestBytes);
  const platform = platformOf(image.config);
  const bytesWritten = layers.reduce((n, l) => n + l.size, 0) + config.size + manifest.size;
  return {
    manifest: { ...manifest, ...(platform ? { platform } : {}) },
    result: { manifestDigest: manifest.digest, configDigest: config.digest, layers, bytesWritten },
  };
}

/** A manifest descriptor as an index.json entry, named `refName` when given. */
export function indexEntry(manifest: Descriptor, refName: string | undefined): Descriptor {
  return refName === undefined ? manifest : { ...manifest, annotations: { [ANNOTATION_REF_NAME]: refName } };
}

/** The bytes of an index.json listing `manifests`. */
export function indexFile(manifests: readonly Descriptor[]): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
}
