import { describe, expect, it } from 'vitest';
import { parseConfig, parseIndex, parseManifest } from '../../src/image/manifest.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../src/image/media-types.js';
import { serializeConfig, withDiffIds } from '../../src/image/config.js';

const D = `sha256:${'a'.repeat(64)}`;
const desc = (mediaType: string) => ({ mediaType, digest: D, size: 3 });

describe('parseManifest / parseIndex / parseConfig', () => {
  it('accepts an OCI manifest', () => {
    const m = parseManifest(
      {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: desc('application/vnd.oci.image.config.v1+json'),
        layers: [desc('application/vnd.oci.image.layer.v1.tar')],
      },
      'x',
    );
    expect(m.layers).toHaveLength(1);
  });

  it('names the file in errors', () => {
    expect(() => parseManifest({ schemaVersion: 2, config: desc('c') }, 'img.tar: manifest sha256:1')).toThrow(
      /img.tar: manifest sha256:1: "layers" must be an array/,
    );
    expect(() =>
      parseManifest({ schemaVersion: 2, config: { ...desc('c'), digest: 'nope' }, layers: [] }, 'f'),
    ).toThrow(expect.objectContaining({ code: 'BAD_MANIFEST' }));
    expect(() => parseManifest({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }, 'f')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_MEDIA_TYPE' }),
    );
    expect(() => parseManifest({ schemaVersion: 1 }, 'f')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(() => parseIndex([], 'f')).toThrow(expect.objectContaining({ code: 'BAD_MANIFEST' }));
    expect(() => parseIndex({ schemaVersion: 2, manifests: [{ ...desc(OCI_MANIFEST), size: -1 }] }, 'f')).toThrow(
      /manifests\[0\] has an invalid size/,
    );
  });

  it('validates configs and keeps them whole', () => {
    expect(() => parseConfig({ rootfs: { type: 'layers' } }, 'c')).toThrow(/rootfs.diff_ids/);
    expect(() => parseConfig({ rootfs: { type: 'layers', diff_ids: ['x'] } }, 'c')).toThrow(/diff_ids\[0\]/);
    const text = '{"b":1,"rootfs":{"type":"layers","diff_ids":[]},"a":{"Healthcheck":{"Test":["CMD","true"]}}}';
    const c = parseConfig(JSON.parse(text), 'c');
    expect(serializeConfig(withDiffIds(c, [D])).toString()).toBe(
      `{"b":1,"rootfs":{"type":"layers","diff_ids":["${D}"]},"a":{"Healthcheck":{"Test":["CMD","true"]}}}`,
    );
  });
});
