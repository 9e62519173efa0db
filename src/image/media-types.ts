/**
 * Media types of the manifests, indexes, configs and layers layerflat reads and writes. Docker's
 * schema-2 names are the older spelling of the same structures, so readers accept both and
 * writers emit OCI. A layer's media type says what it should be; readers still decide by its bytes.
 */
import type { Compression } from './types.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYOUT_VERSION = '1.0.0';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';

/** Annotation holding an OCI layout's name for a manifest (a tag, or a whole reference). */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** Annotation containerd (and Docker's containerd store) puts on index entries: the full name. */
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';
/** Annotation buildx puts on attestation manifests, which are not runnable images. */
export const ANNOTATION_DOCKER_REFERENCE_TYPE = 'vnd.docker.reference.type';

/** Strip parameters and case so "…+json; charset=utf-8" compares equal. */
function base(mediaType: string): string {
  return mediaType.split(';', 1)[0]!.trim().toLowerCase();
}

/** True for an OCI image index or a Docker manifest list. */
export function isIndexMediaType(mediaType: string): boolean {
  const b = base(mediaType);
  return b === OCI_INDEX || b === DOCKER_MANIFEST_LIST;
}

/** True for an OCI image manifest or a Docker schema-2 manifest. */
export function isManifestMediaType(mediaType: string): boolean {
  const b = base(mediaType);
  return b === OCI_MANIFEST || b === DOCKER_MANIFEST;
}

/** True for an OCI or Docker image config (artifacts such as Helm charts use other types). */
export function isConfigMediaType(mediaType: string): boolean {
  const b = base(mediaType);
  return b === OCI_CONFIG || b === DOCKER_CONFIG;
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
  return MEDIA_TYPES.get(base(mediaType));
}
