import { describe, expect, it } from 'vitest';
import { compressionOfMediaType, layerMediaType } from '../../src/image/media-types.js';

describe('media types', () => {
  it('gives OCI layer media types', () => {
    expect(layerMediaType('none')).toBe('application/vnd.oci.image.layer.v1.tar');
    expect(layerMediaType('gzip')).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(layerMediaType('zstd')).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
  });
  it('round-trips its own media types', () => {
    for (const c of ['none', 'gzip', 'zstd'] as const) expect(compressionOfMediaType(layerMediaType(c))).toBe(c);
  });
  it('parses Docker and OCI layer media types', () => {
    expect(compressionOfMediaType('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(compressionOfMediaType('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')).toBe('gzip');
    expect(compressionOfMediaType('application/vnd.docker.image.rootfs.diff.tar.zstd')).toBe('zstd');
    expect(compressionOfMediaType('application/vnd.docker.image.rootfs.diff.tar')).toBe('none');
    expect(compressionOfMediaType('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip')).toBe('gzip');
    expect(compressionOfMediaType('Application/VND.OCI.image.layer.v1.tar+zstd; foo=bar')).toBe('zstd');
  });
  it('returns undefined for non-layer and unknown types', () => {
    expect(compressionOfMediaType('application/vnd.oci.image.manifest.v1+json')).toBeUndefined();
    expect(compressionOfMediaType('application/vnd.docker.container.image.v1+json')).toBeUndefined();
    expect(compressionOfMediaType('application/vnd.oci.image.layer.v1.tar+gzip+encrypted')).toBeUndefined();
    expect(compressionOfMediaType('application/vnd.oci.image.layer.v1.tar+bzip2')).toBeUndefined();
    expect(compressionOfMediaType('')).toBeUndefined();
  });
});
