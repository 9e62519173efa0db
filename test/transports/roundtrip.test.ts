import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Compression, OutputImage } from '../../src/image/types.js';
import { openSource, sinkFor } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';
import {
  decompress,
  haveTool,
  layerTar,
  newLayer,
  sampleConfig,
  sha256,
  tempDir,
  tinyImage,
  readStored,
} from './helpers.js';

const formats = [
  { transport: 'docker-archive', file: 'out.tar' },
  { transport: 'oci', file: 'layout' },
  { transport: 'oci-archive', file: 'out.oci.tar' },
] as const;
const compressions: Compression[] = haveTool('zstd') ? ['none', 'gzip', 'zstd'] : ['none', 'gzip'];

async function writeThenOpen(transport: string, file: string, image: OutputImage, compression: Compression, ref = '') {
  const dir = tempDir();
  const dest = parseReference(`${transport}:${path.join(dir, file)}${ref}`, 'dest');
  // as the library's users see it in JSON: digests as "sha256:<hex>" strings
  const result = JSON.parse(JSON.stringify(await sinkFor(dest).write(dest, image, { compression, force: false })));
  const opened = await openSource(parseReference(`${transport}:${path.join(dir, file)}`, 'source'));
  return { dir, result, opened };
}

describe.each(formats)('$transport sink → source', ({ transport, file }) => {
  it.each(compressions)('round-trips a one-layer image with %s layers', async (compression) => {
    const tar = layerTar();
    const { result, opened } = await writeThenOpen(
      transport,
      file,
      tinyImage(['example.com/tiny:1.0'], tar),
      compression,
    );
    try {
      const { image } = opened;
      expect(image.layers).toHaveLength(1);
      const layer = image.layers[0]!;
      const stored = await readStored(layer);
      expect(decompress(stored).equals(tar)).toBe(true);
      expect(String(layer.diffId)).toBe(sha256(tar));
      expect(result.layers[0]).toMatchObject({ digest: sha256(stored), diffId: sha256(tar), size: stored.length });
      if (layer.digest) expect(String(layer.digest)).toBe(sha256(stored));
      expect(result.layers[0]!.mediaType).toBe(
        `application/vnd.oci.image.layer.v1.tar${compression === 'none' ? '' : `+${compression}`}`,
      );
      // The config survives field for field, key order included; only diff_ids are filled in.
      const want = { ...sampleConfig(), rootfs: { type: 'layers', diff_ids: [sha256(tar)] } };
      expect(JSON.stringify(image.config)).toBe(JSON.stringify(want));
      expect(result.configDigest).toBe(sha256(JSON.stringify(want)));
      expect(image.tags).toContain('example.com/tiny:1.0');
    } finally {
      await opened.close();
    }
  });

  it('names the image by the destination :REF', async () => {
    const { opened } = await writeThenOpen(transport, file, tinyImage(['other:9']), 'none', ':myapp');
    const want = transport === 'docker-archive' ? 'myapp:latest' : 'myapp';
    expect(opened.image.tags).toEqual([want]);
  });

  it('copies a kept layer verbatim and writes a new one above it', async () => {
    const base = layerTar({ 'bin/': '', 'bin/sh': '#!sh\n' });
    const first = await writeThenOpen(transport, file, tinyImage(['t:1'], base), 'gzip');
    const kept = first.opened.image.layers[0]!;
    const keptBytes = await readStored(kept);
    const top = layerTar({ 'srv/': '', 'srv/app': 'app\n' });
    const image: OutputImage = {
      config: sampleConfig(),
      layers: [{ kind: 'copy', layer: kept }, newLayer(top)],
      tags: ['t:2'],
    };
    const second = await writeThenOpen(transport, file, image, 'none');
    const [l0, l1] = second.opened.image.layers;
    expect((await readStored(l0!)).equals(keptBytes)).toBe(true);
    expect(second.result.layers[0]).toMatchObject({
      digest: sha256(keptBytes),
      diffId: sha256(base),
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    });
    expect(second.opened.image.config.rootfs.diff_ids).toEqual([sha256(base), sha256(top)]);
    expect((await readStored(l1!)).equals(top)).toBe(true);
  });
});

describe('large layers', () => {
  it.each(formats)('$transport streams a multi-megabyte layer in many small chunks', async ({ transport, file }) => {
    const big = Buffer.alloc(12 << 20);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const chunks = Array.from({ length: big.length / 512 }, (_, i) => big.subarray(i * 512, (i + 1) * 512));
    const image: OutputImage = {
      config: sampleConfig(),
      layers: [{ kind: 'new', open: async () => Readable.from(chunks) }],
      tags: ['big:1'],
    };
    const { result, opened } = await writeThenOpen(transport, file, image, 'gzip');
    expect(result.layers[0]!.diffId).toBe(sha256(big));
    expect(decompress(await readStored(opened.image.layers[0]!)).equals(big)).toBe(true);
  });
});

describe('written manifests', () => {
  it('docker-archive: classic manifest.json that docker and podman load', async () => {
    const { dir, result } = await writeThenOpen('docker-archive', 'out.tar', tinyImage(['example.com/tiny']), 'none');
    const { tarFileTree } = await import('../../src/formats/file-tree.js');
    const tree = await tarFileTree(path.join(dir, 'out.tar'));
    const manifest = (await tree.readJSON('manifest.json')) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    const hex = (d: string) => d.slice(7);
    expect(manifest).toEqual([
      {
        Config: `${hex(result.configDigest)}.json`,
        RepoTags: ['example.com/tiny:latest'],
        Layers: [`${hex(result.layers[0]!.digest)}.tar`],
      },
    ]);
    expect(tree.has(manifest[0]!.Config)).toBe(true);
  });

  it('docker-archive: RepoTags keep full names and drop bare OCI tags', async () => {
    const { opened } = await writeThenOpen(
      'docker-archive',
      'out.tar',
      tinyImage(['latest', 'busybox:1.36', 'quay.io/a/b']),
      'none',
    );
    expect(opened.image.tags).toEqual(['busybox:1.36', 'quay.io/a/b:latest']);
  });

  it('oci: valid index.json, manifest and oci-layout', async () => {
    const { dir, result } = await writeThenOpen('oci', 'layout', tinyImage(['example.com/tiny:1.0']), 'gzip');
    const layout = path.join(dir, 'layout');
    expect(JSON.parse(fs.readFileSync(path.join(layout, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: result.manifestDigest,
      platform: { os: 'linux', architecture: 'amd64' },
      annotations: { 'org.opencontainers.image.ref.name': 'example.com/tiny:1.0' },
    });
    const blob = (d: string) => fs.readFileSync(path.join(layout, 'blobs', 'sha256', d.slice(7)));
    const manifestBytes = blob(result.manifestDigest);
    expect(sha256(manifestBytes)).toBe(result.manifestDigest);
    const manifest = JSON.parse(manifestBytes.toString());
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: result.configDigest,
      size: blob(result.configDigest).length,
    });
    expect(manifest.layers[0]).toEqual({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: result.layers[0]!.digest,
      size: result.layers[0]!.size,
    });
    expect(fs.readdirSync(path.join(layout, 'blobs', 'sha256')).sort()).toEqual(
      [result.manifestDigest, result.configDigest, result.layers[0]!.digest].map((d: string) => d.slice(7)).sort(),
    );
  });
});
