/**
 * Reading the REAL engine fixtures of test/fixtures/ (made by scripts/make-fixtures.sh with
 * docker, podman, skopeo and buildah). Each block is skipped, with the reason printed, when its
 * fixture is missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Image } from '../../src/image/types.js';
import { openSource, sinkFor } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';
import type { SourceOptions } from '../../src/transports/types.js';
import { decompress, haveTool, sha256, tempDir, readStored } from './helpers.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

function fixture(name: string): string | undefined {
  const p = path.join(FIXTURES, name);
  if (fs.existsSync(p)) return p;
  console.warn(`skipping tests of test/fixtures/${name}: it does not exist (run scripts/make-fixtures.sh)`);
  return undefined;
}

async function open(text: string, options: SourceOptions = {}): Promise<Image> {
  const opened = await openSource(parseReference(text, 'source'), options);
  await opened.close();
  return opened.image;
}

/** Every layer reads back whole, and its uncompressed bytes hash to its diff_id. */
async function checkLayers(image: Image): Promise<void> {
  for (const layer of image.layers) {
    const stored = await readStored(layer);
    if (layer.size !== undefined) expect(stored.length).toBe(layer.size);
    expect(sha256(decompress(stored))).toBe(String(layer.diffId));
  }
}

/** The rules fixture's metadata; Healthcheck only where the config is Docker's (skopeo's OCI drops it). */
function checkRulesConfig(image: Image, format: 'docker' | 'oci' = 'docker'): void {
  const c = image.config.config as Record<string, unknown>;
  expect(c['Cmd']).toEqual(['/bin/sh', '-c', 'echo layerflat-ok']);
  expect(c['Entrypoint']).toEqual(['/usr/local/bin/lf-entrypoint']);
  if (format === 'docker') expect(c['Healthcheck']).toMatchObject({ Test: ['CMD', '/bin/sh', '-c', 'echo healthy'] });
  expect(c['User']).toBe('1000');
  expect(image.layers.length).toBe(image.config.rootfs.diff_ids.length);
  expect(image.layers.length).toBeGreaterThan(5);
}

const dockerRules = fixture('docker-rules.tar');
describe.skipIf(!dockerRules)('docker save (docker-rules.tar)', () => {
  it('opens with tags, config and every layer intact', async () => {
    const image = await open(`docker-archive:${dockerRules}`);
    expect(image.tags).toEqual(['layerflat-fixture/rules:docker']);
    checkRulesConfig(image);
    await checkLayers(image);
  });

  it('is detected from a bare path', async () => {
    expect((await open(dockerRules!)).origin).toMatch(/^docker-archive:/);
  });

  it.each(['docker-archive', 'oci'])('copies every layer verbatim into %s', async (transport) => {
    const image = await open(`docker-archive:${dockerRules}`);
    const dest = parseReference(`${transport}:${path.join(tempDir(), 'copy')}:copy:1`, 'dest');
    const layers = image.layers.map((layer) => ({ kind: 'copy' as const, layer }));
    const result = await sinkFor(dest).write(
      dest,
      { config: image.config, layers, tags: [] },
      { compression: 'gzip', force: false },
    );
    expect(result.layers.map((l) => String(l.diffId))).toEqual(image.config.rootfs.diff_ids);
    const again = await open(`${transport}:${dest.path}`);
    expect(JSON.stringify(again.config)).toBe(JSON.stringify(image.config));
    await checkLayers(again);
  });
});

const podmanRules = fixture('podman-rules.tar');
describe.skipIf(!podmanRules)('podman save (podman-rules.tar)', () => {
  it('opens with tags, config and every layer intact', async () => {
    const image = await open(`docker-archive:${podmanRules}`);
    expect(image.tags).toEqual(['localhost/layerflat-fixture/rules:podman']);
    checkRulesConfig(image);
    await checkLayers(image);
  });

  it('finds the image by its short name, as podman does', async () => {
    expect((await open(`docker-archive:${podmanRules}:layerflat-fixture/rules:podman`)).tags).toHaveLength(1);
  });
});

const dockerMulti = fixture('docker-multi.tar');
describe.skipIf(!dockerMulti)('docker save of several images (docker-multi.tar)', () => {
  it('lists the images when no REF is given', async () => {
    const err = open(`docker-archive:${dockerMulti}`);
    await expect(err).rejects.toMatchObject({ code: 'AMBIGUOUS_REF' });
    const message = await open(`docker-archive:${dockerMulti}`).catch((e: Error) => e.message);
    expect(message).toMatch(/holds 2 images: @0 .*; @1 /); // docker save orders them as it likes
    expect(message).toContain('layerflat-fixture/rules:docker');
    expect(message).toContain('layerflat-fixture/second:v1, layerflat-fixture/second:latest');
  });

  it('selects by tag, normalised', async () => {
    const rules = await open(`docker-archive:${dockerMulti}:layerflat-fixture/rules:docker`);
    checkRulesConfig(rules);
    const second = await open(`docker-archive:${dockerMulti}:layerflat-fixture/second`);
    expect(second.tags).toContain('layerflat-fixture/second:latest');
    const v1 = await open(`docker-archive:${dockerMulti}:docker.io/layerflat-fixture/second:v1`);
    expect(v1.config).toEqual(second.config);
    await checkLayers(second);
  });
});

const ociDirs = [
  ['oci-gzip', 'gzip'],
  ['oci-zstd', 'zstd'],
] as const;
describe.each(ociDirs)('skopeo OCI layout (%s)', (name, compression) => {
  const dir = fixture(name);
  it.skipIf(!dir || (compression === 'zstd' && !haveTool('zstd')))(
    'opens by ref name and verifies every blob',
    async () => {
      const image = await open(`oci:${dir}:rules`);
      expect(image.tags).toEqual(['rules']);
      checkRulesConfig(image, 'oci');
      expect(image.layers.every((l) => l.mediaType === `application/vnd.oci.image.layer.v1.tar+${compression}`)).toBe(
        true,
      );
      await checkLayers(image);
      expect((await open(`oci:${dir}`)).config).toEqual(image.config);
    },
  );
});

const ociArchive = fixture('rules.oci.tar');
describe.skipIf(!ociArchive)('skopeo oci-archive (rules.oci.tar)', () => {
  it('opens in place, explicitly and detected', async () => {
    const image = await open(`oci-archive:${ociArchive}:rules`);
    checkRulesConfig(image, 'oci');
    await checkLayers(image);
    expect((await open(ociArchive!)).origin).toMatch(/^oci-archive:/);
  });
});

const multi = fixture('oci-multiarch');
describe.skipIf(!multi)('multi-platform OCI layout (oci-multiarch)', () => {
  it.each([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
  ])('selects %s through the nested index', async (_name, platform) => {
    const image = await open(`oci:${multi}:multi`, { platform });
    expect(image.config.architecture).toBe(platform.architecture);
    await checkLayers(image);
  });

  it('defaults to the host platform', async () => {
    const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'];
    if (!arch) return;
    expect((await open(`oci:${multi}`)).config.architecture).toBe(arch);
  });

  it('fails with PLATFORM_NOT_FOUND listing the platforms it has', async () => {
    const wrong = open(`oci:${multi}:multi`, { platform: { os: 'linux', architecture: 's390x' } });
    await expect(wrong).rejects.toMatchObject({ code: 'PLATFORM_NOT_FOUND' });
    await expect(open(`oci:${multi}:multi`, { platform: { os: 'linux', architecture: 's390x' } })).rejects.toThrow(
      /linux\/s390x.*linux\/amd64.*linux\/arm64.*linux\/arm\/v7|linux\/s390x.*it has: .*amd64/,
    );
  });
});
