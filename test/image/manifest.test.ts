import { describe, expect, it } from 'vitest';
import { parseConfig, parseIndex, parseManifest } from '../../src/image/manifest.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../src/image/media-types.js';
import { serializeConfig, withDiffIds } from '../../src/image/config.js';
import { flatConfig } from '../../src/image/flat-config.js';

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

  // Found by the fuzz test (test/image/fuzz.test.ts): a config whose history holds null or a number
  // where a string goes was accepted, and flattening it crashed in flatConfig (exit 70).
  it('validates the history entries flattening rewrites', () => {
    const config = (history: unknown) => ({ rootfs: { type: 'layers', diff_ids: [] }, history });
    const bad = (history: unknown) => () => parseConfig(config(history), 'c');
    expect(bad([null])).toThrow(
      expect.objectContaining({ code: 'BAD_MANIFEST', message: 'c: history[0] is not an object' }),
    );
    expect(bad([{}, 7])).toThrow(/history\[1\] is not an object/);
    expect(bad([{ created_by: 1 }])).toThrow(/history\[0\]\.created_by is not a string/);
    expect(bad([{ comment: {} }])).toThrow(/history\[0\]\.comment is not a string/);
    expect(bad([{ empty_layer: 'yes' }])).toThrow(/history\[0\]\.empty_layer is not a boolean/);
    // null stands for absent, as Go's encoding/json reads it
    const ok = parseConfig(config([{ created_by: null, empty_layer: null, x: 1 }, { empty_layer: true }]), 'c');
    expect(flatConfig(ok, { keep: 0, layerCount: 1, tool: 't' }).history).toEqual([
      { created_by: 't: squashed layer 1 of 1 into one' },
      { empty_layer: true },
    ]);
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
