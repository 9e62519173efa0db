/**
 * Which side of a comparison is a filesystem: a tar is one only when it holds no image metadata
 * at all. A broken image archive is refused as flatten refuses it, never compared as a filesystem
 * (which made `verify` exit 0 or 1 on garbage — a gate that always passes).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { viewOf } from '../../src/verify/sides.js';
import { verify } from '../../src/verify/verify.js';
import { configFor, toTar } from '../transports/handmade.js';
import { layerTar, tempDir } from '../transports/helpers.js';

function write(dir: string, name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('verify sides: image or filesystem', () => {
  it('reads a tar without manifest.json, index.json or oci-layout as a filesystem', async () => {
    const dir = tempDir();
    const fsTar = write(dir, 'export.tar', layerTar({ 'etc/': '', 'etc/hello': 'hi\n' }));
    const view = await viewOf(fsTar);
    expect([...view.walk()].map(([p]) => p)).toEqual(['', 'etc', 'etc/hello']);
  });

  it.each([
    ['an empty manifest.json', { 'manifest.json': '[]' }, 'BAD_MANIFEST'],
    ['an invalid manifest.json', { 'manifest.json': '{not json' }, 'BAD_MANIFEST'],
    ['a manifest.json whose config is missing', { 'manifest.json': '[{"Config":"c.json","Layers":[]}]' }, 'NOT_FOUND'],
    [
      'an index.json that is no index',
      { 'index.json': '"x"', 'oci-layout': '{"imageLayoutVersion":"1.0.0"}' },
      'BAD_MANIFEST',
    ],
  ])('refuses an image archive with %s instead of comparing it as a filesystem', async (_what, files, code) => {
    const dir = tempDir();
    const broken = write(dir, 'broken.tar', toTar(files));
    const good = write(dir, 'fs.tar', layerTar());
    await expect(viewOf(broken)).rejects.toMatchObject({ code });
    await expect(verify({ a: broken, b: good })).rejects.toMatchObject({ code });
  });

  it('refuses an archive whose layer count differs from the diff_ids', async () => {
    const dir = tempDir();
    const layer = layerTar();
    const config = configFor([layer, layer]);
    const files = {
      'manifest.json': JSON.stringify([{ Config: 'config.json', RepoTags: ['x:1'], Layers: ['l.tar'] }]),
      'config.json': config,
      'l.tar': layer,
    };
    const archive = write(dir, 'counts.tar', toTar(files));
    await expect(viewOf(archive)).rejects.toMatchObject({ code: 'BAD_MANIFEST', message: /1 layers but its config/ });
  });
});
