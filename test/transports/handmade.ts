/**
 * Archives and layouts built by hand, member by member, to reproduce what engines write
 * (classic docker save, Docker 28's containerd-store save, nested indexes) and to damage them.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { buildTar, type EntrySpec } from '../helpers/tar-builder.js';
import { layerTar, sampleConfig, sha256 } from './helpers.js';

/** Files of an archive or layout: name → content (a string starting with "->" is a symlink). */
export type Files = Record<string, Buffer | string>;

export function toTar(files: Files): Buffer {
  const specs: EntrySpec[] = Object.entries(files).map(([name, content]) =>
    typeof content === 'string' && content.startsWith('->')
      ? { path: name, type: 'symlink', linkname: content.slice(2) }
      : { path: name, content },
  );
  return buildTar(specs);
}

export function toDir(dir: string, files: Files): string {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** DIR/img.tar: a classic docker-archive (`N/layer.tar`, tagged x/y:1) of `layers`, bottom first. */
export function archiveFile(dir: string, layers: Buffer[], extraConfig: Record<string, unknown> = {}): string {
  const files: Files = {
    'manifest.json': JSON.stringify([
      { Config: 'config.json', RepoTags: ['x/y:1'], Layers: layers.map((_, i) => `${i}/layer.tar`) },
    ]),
    'config.json': configFor(layers, extraConfig),
  };
  layers.forEach((l, i) => (files[`${i}/layer.tar`] = l));
  const file = path.join(dir, 'img.tar');
  fs.writeFileSync(file, toTar(files));
  return file;
}

const hex = (d: string) => d.slice(7);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

export function configFor(layers: Buffer[], extra: Record<string, unknown> = {}): Buffer {
  return json({ ...sampleConfig(), ...extra, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) } });
}

/** A classic `docker save` of two images sharing their base layer (stored once, then symlinked). */
export function classicMultiArchive(): { files: Files; configs: Buffer[]; base: Buffer; top: Buffer } {
  const base = layerTar({ 'bin/': '', 'bin/sh': 'sh\n' });
  const top = layerTar({ 'srv/': '', 'srv/app': 'app\n' });
  const c1 = configFor([base], { created: '2024-01-01T00:00:00Z' });
  const c2 = configFor([base, top], { created: '2024-02-02T00:00:00Z' });
  const files: Files = {
    [`${'1'.repeat(64)}/layer.tar`]: base,
    [`${'2'.repeat(64)}/layer.tar`]: `->../${'1'.repeat(64)}/layer.tar`,
    [`${'3'.repeat(64)}/layer.tar`]: top,
    [`${hex(sha256(c1))}.json`]: c1,
    [`${hex(sha256(c2))}.json`]: c2,
    'manifest.json': json([
      { Config: `${hex(sha256(c1))}.json`, RepoTags: ['busybox:latest'], Layers: [`${'1'.repeat(64)}/layer.tar`] },
      {
        Config: `${hex(sha256(c2))}.json`,
        RepoTags: ['localhost/app:dev'],
        Layers: [`${'2'.repeat(64)}/layer.tar`, `${'3'.repeat(64)}/layer.tar`],
      },
    ]),
    repositories: json({ busybox: { latest: '1'.repeat(64) } }),
  };
  return { files, configs: [c1, c2], base, top };
}

/** Blob files of one image: gzip layer, config, manifest. Returns the manifest descriptor. */
export function ociImageBlobs(files: Files, layer: Buffer, extraConfig: Record<string, unknown> = {}) {
  const gz = zlib.gzipSync(layer);
  const config = configFor([layer], extraConfig);
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(gz), size: gz.length }],
  });
  for (const b of [gz, config, manifest]) files[`blobs/sha256/${hex(sha256(b))}`] = b;
  return {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: sha256(manifest),
    size: manifest.length,
    layerDigest: sha256(gz),
  };
}

/**
 * What Docker 28/29's containerd store writes for `docker save busybox`: index.json → a nested
 * index listing amd64 (present), arm64 (listed only) and an attestation manifest; no
 * manifest.json when `withManifestJson` is false.
 */
export function containerdStoreArchive(withManifestJson: boolean): Files {
  const files: Files = { 'oci-layout': json({ imageLayoutVersion: '1.0.0' }) };
  const amd = ociImageBlobs(files, layerTar({ 'amd64-file': 'x' }), { architecture: 'amd64' });
  const { layerDigest, ...amdDesc } = amd;
  const nested = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { ...amdDesc, platform: { architecture: 'amd64', os: 'linux' } },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${'9'.repeat(64)}`,
        size: 100,
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
      },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${'8'.repeat(64)}`,
        size: 100,
        platform: { architecture: 'unknown', os: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
      },
    ],
  });
  files[`blobs/sha256/${hex(sha256(nested))}`] = nested;
  files['index.json'] = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: sha256(nested),
        size: nested.length,
        annotations: {
          'io.containerd.image.name': 'docker.io/library/busybox:latest',
          'org.opencontainers.image.ref.name': 'latest',
        },
      },
    ],
  });
  if (withManifestJson) {
    const manifest = JSON.parse(files[`blobs/sha256/${hex(amd.digest)}`]!.toString());
    files['manifest.json'] = json([
      {
        Config: `blobs/sha256/${hex(manifest.config.digest)}`,
        RepoTags: ['busybox:latest'],
        Layers: [`blobs/sha256/${hex(layerDigest)}`],
      },
    ]);
  }
  return files;
}

/** Flip one byte of a buffer (a copy). */
export function flipped(b: Buffer | string, at = 10): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
}
