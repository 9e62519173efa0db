/**
 * Compression detection: by magic bytes for the data itself, by media type for descriptors.
 * Readers trust the bytes (a docker-archive has no media types, and registries have been known
 * to mislabel layers); writers use `layerMediaType` to label what they produced.
 */
import type { Compression } from '../image/types.js';

/** How many leading bytes `detectCompression` looks at; give it at least this many if there are. */
export const MAGIC_LENGTH = 4;

/**
 * Detect by magic bytes: gzip `1f 8b`; zstd frame `28 b5 2f fd`, or a zstd skippable frame
 * (`5? 2a 4d 18`, little-endian 0x184D2A50..0x184D2A5F), which zstd streams may start with;
 * anything else (including fewer bytes than a magic) is 'none'.
 */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4) {
    if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
    if ((head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  }
  return 'none';
}

const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';

/** The OCI layer media type for a compression. */
export function layerMediaType(c: Compression): string {
  switch (c) {
    case 'none':
      return OCI_LAYER;
    case 'gzip':
      return `${OCI_LAYER}+gzip`;
    case 'zstd':
      return `${OCI_LAYER}+zstd`;
  }
}

const MEDIA_TYPES: ReadonlyMap<string, Compression> = new Map<string, Compression>([
  // OCI image-spec layers, and the deprecated non-distributable variants.
  ['application/vnd.oci.image.layer.v1.tar', 'none'],
  ['application/vnd.oci.image.layer.v1.tar+gzip', 'gzip'],
  ['application/vnd.oci.image.layer.v1.tar+zstd', 'zstd'],
  ['application/vnd.oci.image.layer.nondistributable.v1.tar', 'none'],
  ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'gzip'],
  ['application/vnd.oci.image.layer.nondistributable.v1.tar+zstd', 'zstd'],
  // Docker image manifest v2 schema 2 (and the names containerd gives the uncommon variants).
  ['application/vnd.docker.image.rootfs.diff.tar', 'none'],
  ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'gzip'],
  ['application/vnd.docker.image.rootfs.diff.tar.zstd', 'zstd'],
  ['application/vnd.docker.image.rootfs.foreign.diff.tar', 'none'],
  ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'gzip'],
]);

/**
 * The compression a layer media type declares (OCI or Docker), or undefined when the media type
 * is not a layer type we know (including encrypted layers, "+encrypted"). Parameters after ";"
 * and letter case are ignored.
 */
export function compressionOfMediaType(mediaType: string): Compression | undefined {
  const base = mediaType.split(';', 1)[0]!.trim().toLowerCase();
  return MEDIA_TYPES.get(base);
}
