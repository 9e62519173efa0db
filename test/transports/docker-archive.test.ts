import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSource } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';
import { sha256, tempDir, readStored } from './helpers.js';
import { classicMultiArchive, containerdStoreArchive, flipped, toTar, type Files } from './handmade.js';

function archive(files: Files): string {
  const file = path.join(tempDir(), 'img.tar');
  fs.writeFileSync(file, toTar(files));
  return file;
}

const open = (file: string, ref = '', platform?: { os: string; architecture: string }) =>
  openSource(parseReference(`docker-archive:${file}${ref}`, 'source'), platform ? { platform } : {});

describe('docker-archive source: several images', () => {
  const { files, configs, base, top } = classicMultiArchive();

  it('fails with AMBIGUOUS_REF listing the images when no REF is given', async () => {
    const err = open(archive(files));
    await expect(err).rejects.toMatchObject({ code: 'AMBIGUOUS_REF' });
    await expect(open(archive(files))).rejects.toThrow(/@0 busybox:latest .*@1 localhost\/app:dev/);
  });

  it.each([
    [':busybox', 0],
    [':busybox:latest', 0],
    [':docker.io/library/busybox:latest', 0],
    [':localhost/app:dev', 1],
    [':app:dev', 1], // a short name, as podman resolves localhost/app
    [':@1', 1],
  ])('selects by REF %s', async (ref, want) => {
    const { image } = await open(archive(files), ref);
    expect(image.config.created).toBe(JSON.parse(configs[want]!.toString()).created);
  });

  it('selects by image ID, full or prefix, with or without sha256:', async () => {
    const id = sha256(configs[1]!);
    for (const ref of [id, id.slice(0, 19), id.slice(7, 19)]) {
      const { image } = await open(archive(files), `:${ref}`);
      expect(image.tags).toEqual(['localhost/app:dev']);
    }
  });

  it('fails with REF_NOT_FOUND listing what is there', async () => {
    await expect(open(archive(files), ':nginx')).rejects.toMatchObject({ code: 'REF_NOT_FOUND' });
    await expect(open(archive(files), ':@5')).rejects.toThrow(/no image "@5".*busybox:latest/);
    await expect(open(archive(files), ':sha256:ffff')).rejects.toMatchObject({ code: 'REF_NOT_FOUND' });
  });

  it('reads layers where they lie, following the symlink docker save makes for a repeated layer', async () => {
    const { image } = await open(archive(files), ':@1');
    expect(image.layers.map((l) => String(l.diffId))).toEqual([sha256(base), sha256(top)]);
    expect((await readStored(image.layers[0]!)).equals(base)).toBe(true);
    expect((await readStored(image.layers[1]!)).equals(top)).toBe(true);
    expect(image.layers[0]!.digest).toBeUndefined(); // classic names are not content digests
    expect(image.origin).toContain('docker-archive:');
  });
});

describe('docker-archive source: errors', () => {
  const { files } = classicMultiArchive();
  const manifest = JSON.parse(files['manifest.json']!.toString());

  it('NOT_FOUND names a layer member that is missing', async () => {
    const broken = { ...files, 'manifest.json': JSON.stringify([{ ...manifest[0], Layers: ['nope/layer.tar'] }]) };
    await expect(open(archive(broken))).rejects.toThrow(/nope\/layer.tar named by manifest.json is missing/);
  });

  it('BAD_MANIFEST when layers and diff_ids disagree', async () => {
    const broken = { ...files, 'manifest.json': JSON.stringify([{ ...manifest[1], Layers: [manifest[1].Layers[0]] }]) };
    await expect(open(archive(broken))).rejects.toMatchObject({
      code: 'BAD_MANIFEST',
      message: expect.stringMatching(/1 layers but its config lists 2 diff_ids/),
    });
  });

  it('BAD_MANIFEST naming manifest.json when it is not JSON', async () => {
    await expect(open(archive({ ...files, 'manifest.json': '[{' }))).rejects.toMatchObject({
      code: 'BAD_MANIFEST',
      message: expect.stringMatching(/manifest.json: invalid JSON/),
    });
  });

  it('DIGEST_MISMATCH when a config does not hash to the ID in its name', async () => {
    const name = manifest[0].Config as string;
    await expect(open(archive({ ...files, [name]: flipped(files[name]!, 3) }), ':@0')).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
  });

  it('is not fooled by a gzip file or a filesystem tar', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'fs.tar'), toTar({ 'etc/hosts': 'x' }));
    await expect(open(path.join(dir, 'fs.tar'))).rejects.toMatchObject({ code: 'BAD_MANIFEST' });
  });
});

describe('docker-archive source: Docker >= 25 and the containerd store', () => {
  it('reads manifest.json naming blobs/sha256 paths, and verifies those layers as they stream', async () => {
    const files = containerdStoreArchive(true);
    const { image } = await open(archive(files));
    expect(image.tags).toEqual(['busybox:latest']);
    const layer = image.layers[0]!;
    expect(String(layer.digest)).toMatch(/^sha256:/);
    await readStored(layer);
    const name = layer.digest!.blobPath;
    const damaged = await open(archive({ ...files, [name]: flipped(files[name]!, 20) }));
    await expect(readStored(damaged.image.layers[0]!)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('falls back to the nested OCI index without manifest.json, skipping attestations', async () => {
    const { image } = await open(archive(containerdStoreArchive(false)));
    expect(image.tags).toEqual(['busybox:latest', 'latest']);
    expect(image.config.architecture).toBe('amd64');
    await readStored(image.layers[0]!);
  });

  it('selects by platform and lists what is there when it cannot', async () => {
    const file = archive(containerdStoreArchive(false));
    const { image } = await open(file, '', { os: 'linux', architecture: 'amd64' });
    expect(image.layers).toHaveLength(1);
    const err = open(file, '', { os: 'linux', architecture: 's390x' });
    await expect(err).rejects.toMatchObject({ code: 'PLATFORM_NOT_FOUND' });
    await expect(open(file, '', { os: 'linux', architecture: 's390x' })).rejects.toThrow(
      /it has: linux\/amd64; listed without their blobs: linux\/arm64/,
    );
  });
});
