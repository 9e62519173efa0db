/**
 * Whole images for fuzzing, built in code from a fast-check case and then damaged: a classic
 * `docker save` archive, a Docker >= 25 one (an OCI layout inside, manifest.json naming blobs),
 * an OCI layout directory, or an oci-archive. Documents are edited while they are built (so a
 * config edit still gets a matching digest in the manifest above it, and only the edited part
 * is inconsistent); layers may be hostile tars whose diff_ids match, so the tar reader and the
 * merge see them; then whole files are deleted, replaced, cut, flipped or turned into symlinks.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { applyEdit, jsonEdit, type Json, type JsonEdit } from './json-mutate.js';
import { buildTar, type EntrySpec } from './tar-builder.js';
import { entrySpec, mutatedTar, randomBytes, shown } from './tar-mutate.js';

type ImageFormat = 'docker-classic' | 'docker-oci' | 'oci' | 'oci-archive';
type Compression = 'none' | 'gzip' | 'zstd';

interface LayerCase {
  tar: Buffer;
  compression: Compression;
  /** Whether the config's diff_id is the tar's digest (false: a random digest). */
  diffIdOk: boolean;
}

type FileMutation =
  | { op: 'delete'; pick: number }
  | { op: 'replace'; pick: number; bytes: Buffer }
  | { op: 'flip'; pick: number; at: number; mask: number }
  | { op: 'truncate'; pick: number; at: number }
  | { op: 'symlink'; pick: number; target: string }
  | { op: 'add'; name: string; content: Buffer | string };

export interface ImageCase {
  format: ImageFormat;
  layers: LayerCase[];
  configEdits: JsonEdit[];
  manifestEdits: JsonEdit[];
  indexEdits: JsonEdit[];
  files: FileMutation[];
}

/** Files of an archive or layout: name → bytes, or "->target" for a symlink. */
export type Files = Record<string, Buffer | string>;

const sha = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const LAYER_TYPES: Record<Compression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

const zstdCache = new Map<string, Buffer>();
function compress(tar: Buffer, c: Compression): Buffer {
  if (c === 'gzip') return zlib.gzipSync(tar, { level: 1 });
  if (c === 'none') return tar;
  const key = sha(tar);
  let z = zstdCache.get(key);
  if (!z) {
    z = execFileSync('zstd', ['-q', '-1', '-c'], { input: tar });
    if (zstdCache.size > 200) zstdCache.clear();
    zstdCache.set(key, z);
  }
  return z;
}

/** A reasonable layer: entries tar-builder can write (names may still climb, whiteout, repeat). */
const plainLayer = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: entrySpec },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom('etc/', 'etc/passwd', 'bin/sh', 'etc/.wh.passwd', '.wh..wh..opq'), fc.nat(9))
          .map(([p, n]): EntrySpec => (p.endsWith('/') ? { path: p } : { path: p, content: `v${n}\n` })),
      },
    ),
    { maxLength: 6 },
  )
  .map((specs) => shown(buildTar(specs)));

const layerCase: fc.Arbitrary<LayerCase> = fc.record({
  tar: fc.oneof(
    { weight: 6, arbitrary: plainLayer },
    { weight: 2, arbitrary: mutatedTar },
    { weight: 1, arbitrary: randomBytes },
  ),
  compression: fc.constantFrom<Compression>('none', 'none', 'gzip', 'gzip', 'zstd'),
  diffIdOk: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

const fileMutation: fc.Arbitrary<FileMutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), pick: fc.nat(), bytes: randomBytes }),
  fc.record({ op: fc.constant('flip' as const), pick: fc.nat(), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), pick: fc.nat(), at: fc.nat() }),
  fc.record({
    op: fc.constant('symlink' as const),
    pick: fc.nat(),
    target: fc.constantFrom('../../../../etc/passwd', '/etc/passwd', 'manifest.json', 'index.json', 'loop', '.', '..'),
  }),
  fc.record({
    op: fc.constant('add' as const),
    name: fc.constantFrom('oci-layout', 'manifest.json', 'index.json', 'repositories', '../escape', 'blobs/sha256/x'),
    content: fc.oneof(
      fc.constantFrom('{"imageLayoutVersion":"2.0.0"}', '{}', '[]', 'null', '{"imageLayoutVersion":"1.0.0"}'),
      randomBytes,
    ),
  }),
);

const edits = (max: number) =>
  fc.oneof(
    { weight: 7, arbitrary: fc.constant<JsonEdit[]>([]) },
    { weight: 1, arbitrary: fc.array(jsonEdit, { minLength: 1, maxLength: max }) },
  );

/** A case: a format, 0-3 layers, a few edits and file mutations (often none, so many images are whole). */
export const imageCase: fc.Arbitrary<ImageCase> = fc.record({
  format: fc.constantFrom<ImageFormat>('docker-classic', 'docker-oci', 'oci', 'oci-archive'),
  layers: fc.oneof(
    { weight: 8, arbitrary: fc.array(layerCase, { minLength: 1, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constant<LayerCase[]>([]) },
  ),
  configEdits: edits(2),
  manifestEdits: edits(2),
  indexEdits: edits(2),
  files: fc.oneof(
    { weight: 4, arbitrary: fc.constant<FileMutation[]>([]) },
    { weight: 1, arbitrary: fc.array(fileMutation, { maxLength: 2 }) },
  ),
});

const edited = (doc: Json, e: JsonEdit[]) => e.reduce(applyEdit, doc);

/** The files of the image a case describes, damaged as it says. */
export function buildImage(c: ImageCase): Files {
  const files: Files = {};
  const stored = c.layers.map((l) => compress(l.tar, l.compression));
  const diffIds = c.layers.map((l) => `sha256:${l.diffIdOk ? sha(l.tar) : sha(`not ${sha(l.tar)}`)}`);
  const config = json(
    edited(
      {
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: c.layers.map((_, i) => ({ created_by: `step ${i}` })),
      },
      c.configEdits,
    ),
  );
  if (c.format === 'docker-classic') {
    const names = stored.map((_, i) => `${sha(`layer ${i}`)}/layer.tar`);
    stored.forEach((b, i) => (files[names[i]!] = b));
    files[`${sha(config)}.json`] = config;
    const manifest = [{ Config: `${sha(config)}.json`, RepoTags: ['fuzz:latest'], Layers: names }];
    files['manifest.json'] = json(edited(manifest, c.manifestEdits));
    files['repositories'] = json({ fuzz: { latest: sha('layer 0') } });
  } else {
    files['oci-layout'] = json({ imageLayoutVersion: '1.0.0' });
    const blob = (b: Buffer) => (files[`blobs/sha256/${sha(b)}`] = b);
    stored.forEach(blob);
    blob(config);
    const manifest = json(
      edited(
        {
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: {
            mediaType: 'application/vnd.oci.image.config.v1+json',
            digest: `sha256:${sha(config)}`,
            size: config.length,
          },
          layers: stored.map((b, i) => ({
            mediaType: LAYER_TYPES[c.layers[i]!.compression],
            digest: `sha256:${sha(b)}`,
            size: b.length,
          })),
        },
        c.format === 'docker-oci' ? [] : c.manifestEdits,
      ),
    );
    blob(manifest);
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${sha(manifest)}`,
          size: manifest.length,
          annotations: {
            'org.opencontainers.image.ref.name': 'latest',
            'io.containerd.image.name': 'docker.io/library/fuzz:latest',
          },
        },
      ],
    };
    files['index.json'] = json(edited(index, c.indexEdits));
    if (c.format === 'docker-oci') {
      const m = [
        {
          Config: `blobs/sha256/${sha(config)}`,
          RepoTags: ['fuzz:latest'],
          Layers: stored.map((b) => `blobs/sha256/${sha(b)}`),
        },
      ];
      files['manifest.json'] = json(edited(m, c.manifestEdits));
    }
  }
  for (const m of c.files) mutateFiles(files, m);
  return files;
}

function mutateFiles(files: Files, m: FileMutation): void {
  const names = Object.keys(files).sort();
  if (m.op === 'add') {
    files[m.name] = m.content;
    return;
  }
  if (names.length === 0) return;
  const name = names[m.pick % names.length]!;
  const was = files[name]!;
  const bytes = typeof was === 'string' ? Buffer.from(was) : was;
  switch (m.op) {
    case 'delete':
      delete files[name];
      break;
    case 'replace':
      files[name] = m.bytes;
      break;
    case 'flip': {
      if (bytes.length === 0) break;
      const c = Buffer.from(bytes);
      c[m.at % c.length]! ^= m.mask;
      files[name] = c;
      break;
    }
    case 'truncate':
      files[name] = bytes.subarray(0, m.at % (bytes.length + 1));
      break;
    case 'symlink':
      files[name] = `->${m.target === 'loop' ? path.posix.basename(name) : m.target}`;
      break;
  }
}

/** The files as a tar (symlinks as symlink members), in a stable order with manifest.json last, like docker save. */
export function filesToTar(files: Files): Buffer {
  const names = Object.keys(files).sort((a, b) => Number(a === 'manifest.json') - Number(b === 'manifest.json'));
  const dirs = new Set<string>();
  const specs: EntrySpec[] = [];
  for (const name of names) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d) && !d.includes('..')) {
        dirs.add(d);
        specs.push({ path: `${d}/` });
      }
    }
    const content = files[name]!;
    if (typeof content === 'string' && content.startsWith('->')) {
      specs.push({ path: name, type: 'symlink', linkname: content.slice(2) });
    } else specs.push({ path: name, content });
  }
  return buildTar(specs);
}

/** The files as a directory (an OCI layout); names climbing out of `dir` are written as a plain name inside. */
export function filesToDir(dir: string, files: Files): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const safe =
      name
        .split('/')
        .filter((p) => p !== '..' && p !== '')
        .join('/') || 'unnamed';
    const file = path.join(dir, safe);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (typeof content === 'string' && content.startsWith('->')) fs.symlinkSync(content.slice(2), file);
    else fs.writeFileSync(file, content);
  }
}

/** Whether the case's image is a directory (an OCI layout) rather than a tar archive. */
export const isDirectory = (c: ImageCase) => c.format === 'oci';
