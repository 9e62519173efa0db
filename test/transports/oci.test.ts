import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openSource, sinkFor } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';
import { layerTar, sha256, tempDir, tinyImage, readStored } from './helpers.js';
import { containerdStoreArchive, flipped, ociImageBlobs, toDir, toTar, type Files } from './handmade.js';

const json = (v: unknown) => JSON.stringify(v);
const REF = 'org.opencontainers.image.ref.name';

/** A layout with two named images (and their blob digests). */
function twoImageLayout(): { files: Files; a: ReturnType<typeof ociImageBlobs>; b: ReturnType<typeof ociImageBlobs> } {
  const files: Files = { 'oci-layout': json({ imageLayoutVersion: '1.0.0' }) };
  const a = ociImageBlobs(files, layerTar({ a: 'a' }), { created: 'A' });
  const b = ociImageBlobs(files, layerTar({ b: 'b' }), { created: 'B' });
  const entry = ({ layerDigest: _, ...d }: typeof a, name: string) => ({ ...d, annotations: { [REF]: name } });
  files['index.json'] = json({ schemaVersion: 2, manifests: [entry(a, 'v1'), entry(b, 'quay.io/x/b:2')] });
  return { files, a, b };
}

const openOci = (dir: string, ref = '') => openSource(parseReference(`oci:${dir}${ref}`, 'source'));
const blob = (d: string) => `blobs/sha256/${d.slice(7)}`;

describe('oci source', () => {
  it('selects by ref name, digest and @N; AMBIGUOUS_REF without one', async () => {
    const { files, b } = twoImageLayout();
    const dir = toDir(tempDir(), files);
    expect((await openOci(dir, ':v1')).image.config.created).toBe('A');
    expect((await openOci(dir, ':quay.io/x/b:2')).image.tags).toEqual(['quay.io/x/b:2']);
    expect((await openOci(dir, `:${b.digest.slice(0, 20)}`)).image.config.created).toBe('B');
    expect((await openOci(dir, ':@1')).image.config.created).toBe('B');
    await expect(openOci(dir)).rejects.toMatchObject({
      code: 'AMBIGUOUS_REF',
      message: expect.stringMatching(/@0 v1 .*@1 quay.io\/x\/b:2/),
    });
    await expect(openOci(dir, ':v2')).rejects.toMatchObject({
      code: 'REF_NOT_FOUND',
      message: expect.stringMatching(/no image "v2"; it has: @0 v1/),
    });
  });

  it('NOT_FOUND names the digest of a missing layer blob', async () => {
    const { files, a } = twoImageLayout();
    const dir = toDir(tempDir(), files);
    fs.rmSync(path.join(dir, blob(a.layerDigest)));
    await expect(openOci(dir, ':v1')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(a.layerDigest),
    });
  });

  it('DIGEST_MISMATCH / SIZE_MISMATCH when a layer blob is damaged, as it streams', async () => {
    const { files, a } = twoImageLayout();
    const dir = toDir(tempDir(), { ...files, [blob(a.layerDigest)]: flipped(files[blob(a.layerDigest)]!, 30) });
    const { image } = await openOci(dir, ':v1');
    await expect(readStored(image.layers[0]!)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    fs.appendFileSync(path.join(dir, blob(a.layerDigest)), 'x');
    const longer = await openOci(dir, ':v1'); // a blob's size is taken when the image is opened
    await expect(readStored(longer.image.layers[0]!)).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
  });

  it('DIGEST_MISMATCH when a manifest or config is damaged', async () => {
    const { files, a } = twoImageLayout();
    const dir = toDir(tempDir(), { ...files, [blob(a.digest)]: flipped(files[blob(a.digest)]!, 40) });
    await expect(openOci(dir, ':v1')).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('BAD_MANIFEST naming index.json when it is not JSON; not a layout without oci-layout', async () => {
    const { files } = twoImageLayout();
    await expect(openOci(toDir(tempDir(), { ...files, 'index.json': '{"schemaVersion": 2,' }))).rejects.toMatchObject({
      code: 'BAD_MANIFEST',
      message: expect.stringMatching(/index.json: invalid JSON/),
    });
    const { 'oci-layout': _, ...rest } = files;
    await expect(openOci(toDir(tempDir(), rest), ':v1')).rejects.toThrow(/no oci-layout file/);
  });

  it('UNKNOWN_MEDIA_TYPE for an artifact whose config is not an image config', async () => {
    const files: Files = { 'oci-layout': json({ imageLayoutVersion: '1.0.0' }) };
    const config = Buffer.from('{}');
    const manifest = Buffer.from(
      json({
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: sha256(config), size: 2 },
        layers: [],
      }),
    );
    files[blob(sha256(config))] = config;
    files[blob(sha256(manifest))] = manifest;
    files['index.json'] = json({
      schemaVersion: 2,
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length },
      ],
    });
    await expect(openOci(toDir(tempDir(), files))).rejects.toMatchObject({ code: 'UNKNOWN_MEDIA_TYPE' });
  });

  it('treats unnamed per-platform entries as one image, and two names of one manifest too', async () => {
    const files: Files = { 'oci-layout': json({ imageLayoutVersion: '1.0.0' }) };
    const { layerDigest: _a, ...amd } = ociImageBlobs(files, layerTar({ a: 'a' }), { architecture: 'amd64' });
    const { layerDigest: _b, ...arm } = ociImageBlobs(files, layerTar({ b: 'b' }), { architecture: 'arm64' });
    files['index.json'] = json({
      schemaVersion: 2,
      manifests: [
        { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
        { ...arm, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    });
    const dir = toDir(tempDir(), files);
    const pick = (architecture: string) =>
      openSource(parseReference(`oci:${dir}`, 'source'), { platform: { os: 'linux', architecture } });
    expect((await pick('arm64')).image.config.architecture).toBe('arm64');
    expect((await pick('amd64')).image.config.architecture).toBe('amd64');
    files['index.json'] = json({
      schemaVersion: 2,
      manifests: [
        { ...amd, annotations: { [REF]: 'a' } },
        { ...amd, annotations: { [REF]: 'b' } },
      ],
    });
    expect((await openOci(toDir(tempDir(), files))).image.tags).toEqual(['a']);
  });

  it('walks a nested index and selects by platform', async () => {
    const dir = toDir(tempDir(), containerdStoreArchive(false));
    const opened = await openSource(parseReference(`oci:${dir}:busybox`, 'source'), {
      platform: { os: 'linux', architecture: 'amd64' },
    });
    expect(opened.image.config.architecture).toBe('amd64');
    await expect(
      openSource(parseReference(`oci:${dir}:latest`, 'source'), { platform: { os: 'linux', architecture: 'arm64' } }),
    ).rejects.toMatchObject({
      code: 'PLATFORM_NOT_FOUND',
    });
  });
});

describe('oci-archive source', () => {
  // Found by the fuzz test (test/formats/fuzz.test.ts): a directory given as an archive failed as
  // IO "is a directory (EISDIR)"; like a file given as oci:, it is a wrong reference.
  it('says a directory given as an archive is a wrong reference', async () => {
    const { files } = twoImageLayout();
    const dir = toDir(tempDir(), files);
    for (const transport of ['oci-archive', 'docker-archive']) {
      await expect(openSource(parseReference(`${transport}:${dir}`, 'source'))).rejects.toMatchObject({
        code: 'BAD_REFERENCE',
        message: `${dir} is a directory, not a ${transport} file; for an OCI layout use oci:${dir}`,
      });
    }
  });

  it('verifies blobs read from inside the tar', async () => {
    const { files, a } = twoImageLayout();
    const file = path.join(tempDir(), 'a.tar');
    fs.writeFileSync(file, toTar({ ...files, [blob(a.layerDigest)]: flipped(files[blob(a.layerDigest)]!, 30) }));
    const { image } = await openSource(parseReference(`oci-archive:${file}:v1`, 'source'));
    await expect(readStored(image.layers[0]!)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });
});

describe('registry: auto-detection and stdin', () => {
  it('detects each format from a bare path', async () => {
    const dir = tempDir();
    for (const [t, name] of [
      ['docker-archive', 'd.tar'],
      ['oci-archive', 'o.tar'],
      ['oci', 'layout'],
    ] as const) {
      const dest = parseReference(`${t}:${path.join(dir, name)}`, 'dest');
      await sinkFor(dest).write(dest, tinyImage(), { compression: 'none', force: false });
      const opened = await openSource(parseReference(path.join(dir, name), 'source'));
      expect(opened.image.origin).toContain(`${t}:`);
    }
  });

  it('says what a path is when it is no image', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'x.tar.gz'), zlib.gzipSync(Buffer.alloc(1024)));
    await expect(openSource(parseReference(path.join(dir, 'x.tar.gz'), 'source'))).rejects.toMatchObject({
      code: 'NOT_A_TAR',
      message: expect.stringMatching(/gzip-compressed/),
    });
    await expect(openSource(parseReference(path.join(dir, 'none'), 'source'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(openSource(parseReference(dir, 'source'))).rejects.toThrow(/not an OCI layout/);
  });

  it('spools stdin once, detects the format, and removes the spool on close', async () => {
    const dir = tempDir();
    const spool = tempDir();
    const dest = parseReference(`oci-archive:${path.join(dir, 'o.tar')}:v1`, 'dest');
    await sinkFor(dest).write(dest, tinyImage(), { compression: 'gzip', force: false });
    const input = Readable.from([fs.readFileSync(path.join(dir, 'o.tar'))]);
    const opened = await openSource(parseReference('-', 'source'), { tmpDir: spool, stdin: input });
    expect(opened.image.origin).toBe('stdin (oci-archive)');
    expect(fs.readdirSync(spool)).toHaveLength(1);
    await readStored(opened.image.layers[0]!);
    await opened.close();
    expect(fs.readdirSync(spool)).toEqual([]);
  });

  it('removes the spool when what came on stdin is no image', async () => {
    const spool = tempDir();
    await expect(
      openSource(parseReference('-', 'source'), { tmpDir: spool, stdin: Readable.from([Buffer.from('hello')]) }),
    ).rejects.toBeTruthy();
    expect(fs.readdirSync(spool)).toEqual([]);
  });
});
