/**
 * Issue #9, integrity on every read path: a damaged layer is refused whatever reads it and
 * wherever the result goes. Each case is one cell of
 *
 *   outputs × sources × damage
 *
 * run through the built CLI: exit 2, one line on stderr naming DIGEST_MISMATCH, SIZE_MISMATCH or
 * a BAD_* code, and nothing at the destination (for stdout: no end-of-archive blocks, so no
 * reader takes the bytes as a whole archive).
 *
 * Sources, built in code, three layers of three files each (3000, 6000 and 2500 bytes of
 * incompressible data, so a layer has a first, a middle and a last data block):
 * - classic: `docker save` before Docker 25, `<id>/layer.tar` (the name is no digest);
 * - docker25: Docker >= 25, manifest.json naming uncompressed `blobs/sha256/<hex>` layers,
 *   whose digest is their diff_id (before layers/read.ts, never checked when written to a file);
 * - oci-plain / oci-gzip / oci-zstd: OCI layouts with `tar`, `tar+gzip`, `tar+zstd` layers.
 *
 * Damage (the damaged layer rotates, so the bottom, middle and top layer all get some):
 * - flip-first / flip-middle / flip-last: one byte of the stored blob flipped, descriptors left
 *   as they were. In a tar blob: inside the first file's data, in the middle of the middle file,
 *   in the last data block. In a compressed blob (where positions of files mean nothing): early,
 *   in the middle, and just before the trailer.
 * - relabel: the tar's last data block flipped (then recompressed), and the manifest rewritten
 *   to describe the damaged blob (digest, size, and for docker25 the blob's name), so only the
 *   config's diff_id can tell. For classic, whose names are no digests, this is what flip-last
 *   already is, so those cells are not repeated.
 * - short / long: the blob one byte shorter / longer than its descriptor says (SIZE_MISMATCH
 *   before reading). docker25's manifest.json carries no sizes, but the blob's name is its
 *   digest. A classic archive names no size nor digest for a layer, and changing a member's
 *   length without its tar header would make the outer archive itself unreadable (a different
 *   class: BAD_TAR of the archive), so the member is rewritten whole, one byte shorter (its
 *   end-of-archive blocks cut) or longer (a byte after them): only the diff_id tells.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEntry, buildTar, type EntrySpec } from '../helpers/tar-builder.js';
import { configFor, toDir, toTar, type Files } from '../transports/handmade.js';
import { haveTool, sha256 } from '../transports/helpers.js';

const BIN = path.resolve('dist/cli/main.js');
const HAVE_ZSTD = haveTool('zstd');
if (!HAVE_ZSTD) console.warn('integrity matrix: the oci-zstd cells are skipped: no `zstd` program on PATH');

let tmp: string;
beforeAll(() => {
  if (!fs.existsSync(BIN)) spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-integrity-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Layers

/** Deterministic, incompressible bytes. */
function noise(seed: string, length: number): Buffer {
  const key = crypto.createHash('sha256').update(seed).digest();
  return crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

interface Layer {
  tar: Buffer;
  /** Offsets in `tar`: inside the first file's data, the middle of the middle file, the last data block. */
  at: { first: number; middle: number; last: number };
}

/** Layer `i`: a directory and three files of `scale` times 3000, 6000 and 2500 bytes. */
function makeLayer(i: number, scale = 1): Layer {
  const sizes = [3000, 6000, 2500].map((n) => n * scale);
  const specs: EntrySpec[] = [
    { path: `l${i}/` },
    ...['first', 'middle', 'last'].map((name, k) => ({
      path: `l${i}/${name}`,
      content: noise(`${i}${name}`, sizes[k]!),
    })),
  ];
  const starts: number[] = []; // where each entry's data starts
  let offset = 0;
  for (const spec of specs) {
    const size = (spec.content as Buffer | undefined)?.length ?? 0;
    const entry = buildEntry(spec);
    starts.push(offset + entry.length - Math.ceil(size / 512) * 512);
    offset += entry.length;
  }
  const lastBlock = starts[3]! + Math.floor((sizes[2]! - 1) / 512) * 512;
  const at = { first: starts[1]! + 100, middle: starts[2]! + sizes[1]! / 2, last: lastBlock + 200 };
  if (at.last >= starts[3]! + sizes[2]!) throw new Error('offset outside the last data block');
  return { tar: buildTar(specs), at };
}

const LAYERS = [0, 1, 2].map((i) => makeLayer(i));

// ---------------------------------------------------------------------------------------------
// Sources

type Kind = 'classic' | 'docker25' | 'oci-plain' | 'oci-gzip' | 'oci-zstd';
const KINDS: Kind[] = ['classic', 'docker25', 'oci-plain', 'oci-gzip', 'oci-zstd'];

const compressionOf = (kind: Kind) => (kind === 'oci-gzip' ? 'gzip' : kind === 'oci-zstd' ? 'zstd' : 'none');

function compress(kind: Kind, tar: Buffer): Buffer {
  switch (compressionOf(kind)) {
    case 'gzip':
      return zlib.gzipSync(tar);
    case 'zstd':
      return execFileSync('zstd', ['-q', '-c', '-3'], { input: tar });
    default:
      return tar;
  }
}

const hex = (d: string) => d.slice(7);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/**
 * The files of a source of `kind` whose config lists the diff_ids of `layers`, whose manifest
 * describes `described[i]` and whose layer files hold `stored[i]`.
 */
function sourceFiles(kind: Kind, layers: Layer[], described: Buffer[], stored: Buffer[]): Files {
  const config = configFor(layers.map((l) => l.tar));
  const files: Files = {};
  if (kind === 'classic') {
    const ids = stored.map((_, i) => hex(sha256(`layer id ${i}`)));
    stored.forEach((b, i) => (files[`${ids[i]}/layer.tar`] = b));
    files[`${hex(sha256(config))}.json`] = config;
    files['manifest.json'] = json([
      {
        Config: `${hex(sha256(config))}.json`,
        RepoTags: ['test/integrity:classic'],
        Layers: ids.map((id) => `${id}/layer.tar`),
      },
    ]);
    return files;
  }
  const suffix = { none: '', gzip: '+gzip', zstd: '+zstd' }[compressionOf(kind)];
  const mediaType = `application/vnd.oci.image.layer.v1.tar${suffix}`;
  const descriptors = described.map((b) => ({ mediaType, digest: sha256(b), size: b.length }));
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: descriptors,
  });
  stored.forEach((b, i) => (files[`blobs/sha256/${hex(descriptors[i]!.digest)}`] = b));
  for (const b of [config, manifest]) files[`blobs/sha256/${hex(sha256(b))}`] = b;
  files['oci-layout'] = json({ imageLayoutVersion: '1.0.0' });
  files['index.json'] = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(manifest),
        size: manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': 'latest' },
      },
    ],
  });
  if (kind === 'docker25') {
    files['manifest.json'] = json([
      {
        Config: `blobs/sha256/${hex(sha256(config))}`,
        RepoTags: ['test/integrity:docker25'],
        Layers: descriptors.map((l) => `blobs/sha256/${hex(l.digest)}`),
      },
    ]);
  }
  return files;
}

/** Write a source; its reference. */
function writeSource(kind: Kind, name: string, layers: Layer[], described: Buffer[], stored: Buffer[]): string {
  const files = sourceFiles(kind, layers, described, stored);
  if (kind === 'classic' || kind === 'docker25') {
    const file = path.join(tmp, `${name}.tar`);
    fs.writeFileSync(file, toTar(files));
    return `docker-archive:${file}`;
  }
  return `oci:${toDir(path.join(tmp, name), files)}`;
}

// ---------------------------------------------------------------------------------------------
// Damage

const DAMAGES = ['flip-first', 'flip-middle', 'flip-last', 'relabel', 'short', 'long'] as const;
type Damage = (typeof DAMAGES)[number];

const flip = (b: Buffer, at: number) => {
  const c = Buffer.from(b);
  c[at]! ^= 0xff;
  return c;
};

/** Which layer a damage hits: they rotate, so every layer (bottom, middle, top) is damaged somewhere. */
const layerFor = (damage: Damage, layers = LAYERS.length) => DAMAGES.indexOf(damage) % layers;

function damagedSource(kind: Kind, damage: Damage, name = `${kind}-${damage}`, layers = LAYERS): string {
  const k = layerFor(damage, layers.length);
  const blobs = layers.map((l) => compress(kind, l.tar));
  const described = [...blobs];
  const stored = [...blobs];
  const blob = blobs[k]!;
  const { at } = layers[k]!;
  const plain = compressionOf(kind) === 'none';
  switch (damage) {
    case 'flip-first':
      stored[k] = flip(blob, plain ? at.first : 32);
      break;
    case 'flip-middle':
      stored[k] = flip(blob, plain ? at.middle : blob.length >> 1);
      break;
    case 'flip-last':
      stored[k] = flip(blob, plain ? at.last : blob.length - 16);
      break;
    case 'relabel':
      stored[k] = described[k] = compress(kind, flip(layers[k]!.tar, at.last));
      break;
    case 'short':
      stored[k] = blob.subarray(0, blob.length - 1);
      break;
    case 'long':
      stored[k] = Buffer.concat([blob, Buffer.alloc(1)]);
      break;
  }
  if (kind === 'classic') described[k] = stored[k]!; // nothing describes a classic layer but the diff_id
  return writeSource(kind, name, layers, described, stored);
}

// ---------------------------------------------------------------------------------------------
// Outputs

const OUTPUTS = [
  'file',
  'stdout',
  'oci-layout',
  'oci-archive',
  'compress-gzip',
  'flatten-verify',
  'verify-command',
  'inspect',
  // the damage in a kept layer (layer 0): copied beside a flat layer (to a file, or streamed, its
  // check then running beside the copy), and with nothing to squash
  'keep-base-1',
  'keep-base-1-stdout',
  'keep-base-all',
] as const;
type Output = (typeof OUTPUTS)[number];

/** The --keep-base outputs only where the damage is in the kept bottom layer. */
const applies = (output: Output, damage: Damage) => !output.startsWith('keep-base') || layerFor(damage) === 0;

function argsFor(output: Output, source: string, dir: string, good: string): string[] {
  switch (output) {
    case 'file':
      return ['flatten', source, path.join(dir, 'out.tar')];
    case 'stdout':
      return ['flatten', source, '-'];
    case 'oci-layout':
      return ['flatten', source, `oci:${path.join(dir, 'layout')}:flat`];
    case 'oci-archive':
      return ['flatten', source, `oci-archive:${path.join(dir, 'out.oci.tar')}`];
    case 'compress-gzip':
      return ['flatten', source, path.join(dir, 'out.tar'), '--compress', 'gzip'];
    case 'flatten-verify':
      return ['flatten', source, path.join(dir, 'out.tar'), '--verify'];
    case 'verify-command':
      return ['verify', source, good];
    case 'inspect':
      return ['inspect', source];
    case 'keep-base-1':
      return ['flatten', source, path.join(dir, 'out.tar'), '--keep-base', '1'];
    case 'keep-base-1-stdout':
      return ['flatten', source, '-', '--keep-base', '1'];
    case 'keep-base-all':
      return ['flatten', source, path.join(dir, 'out.tar'), '--keep-base', String(LAYERS.length)];
  }
}

// ---------------------------------------------------------------------------------------------
// Running the CLI, a few processes at a time

const PARALLEL = Math.max(2, Math.min(8, os.cpus().length * 2));
let running = 0;
const waiting: Array<() => void> = [];

async function cli(args: string[], cwd?: string): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const ZERO_BLOCKS = Buffer.alloc(1024);
const ERROR_LINE = /^layerflat: error \[(DIGEST_MISMATCH|SIZE_MISMATCH|BAD_[A-Z_]+)\]/;

// ---------------------------------------------------------------------------------------------
// The matrix

describe.concurrent('integrity: a damaged layer is refused on every read path', () => {
  const good = new Map<Kind, string>();
  const sources = new Map<string, string>();

  beforeAll(async () => {
    for (const kind of KINDS) {
      if (kind === 'oci-zstd' && !HAVE_ZSTD) continue;
      const blobs = LAYERS.map((l) => compress(kind, l.tar));
      const source = writeSource(kind, `${kind}-good`, LAYERS, blobs, blobs);
      const out = path.join(tmp, `${kind}-good.flat.tar`);
      const r = await cli(['flatten', source, out, '-q']);
      expect([r.code, r.stderr]).toEqual([0, '']); // the undamaged source is fine: the damage is what fails
      good.set(kind, out);
      for (const damage of DAMAGES) {
        if (kind === 'classic' && damage === 'relabel') continue;
        sources.set(`${kind}/${damage}`, damagedSource(kind, damage));
      }
    }
  });

  for (const kind of KINDS) {
    for (const damage of DAMAGES) {
      if (kind === 'classic' && damage === 'relabel') continue; // the same as flip-* (see above)
      for (const output of OUTPUTS.filter((o) => applies(o, damage))) {
        const name = `${output} ← ${kind} ← ${damage} (layer ${layerFor(damage)})`;
        it.skipIf(kind === 'oci-zstd' && !HAVE_ZSTD)(name, async () => {
          const dir = fs.mkdtempSync(path.join(tmp, 'dest-'));
          const args = argsFor(output, sources.get(`${kind}/${damage}`)!, dir, good.get(kind)!);
          const r = await cli(args, dir);
          expect(r.stderr).toMatch(ERROR_LINE);
          expect(r.stderr, 'names the damaged layer').toContain(`layer ${layerFor(damage) + 1}/3 `);
          expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
          expect(r.code).toBe(2);
          expect(fs.readdirSync(dir)).toEqual([]); // nothing at DEST, no temporary left beside it
          if (output.endsWith('stdout') && r.stdout.length >= ZERO_BLOCKS.length) {
            expect(r.stdout.subarray(-ZERO_BLOCKS.length).equals(ZERO_BLOCKS), 'stdout ends as a whole archive').toBe(
              false,
            );
          }
          if (!output.endsWith('stdout') && output !== 'inspect') expect(r.stdout.length).toBe(0);
        });
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// stdout: a check that fails after bytes went out

describe('integrity: a damaged layer streamed to stdout leaves an archive no reader accepts', () => {
  // Plain layers in a file stream to stdout with no spool: their size comes from a planning pass
  // over the headers alone, their checks run beside the copy, so the damage is found after the
  // archive has begun. (Compressed layers are decoded and checked while planning: nothing goes out.)
  let big: Layer[] | undefined; // 11.5 MB each: more than any buffer on the way holds
  const bigLayers = () => (big ??= [0, 1, 2].map((i) => makeLayer(i, 1000)));
  const cases: Array<[string, () => string]> = [
    ['classic ← flip-last (layer 2)', () => damagedSource('classic', 'flip-last', 'classic-stdout', bigLayers())],
    ['docker25 ← flip-first (layer 0)', () => damagedSource('docker25', 'flip-first', 'docker25-stdout', bigLayers())],
    ['oci-plain ← relabel (layer 0)', () => damagedSource('oci-plain', 'relabel', 'oci-plain-stdout', bigLayers())],
    [
      // The writer joins pieces into ~1 MiB writes. Here all of the flat layer but its own
      // end-of-archive blocks is just under 1 MiB, so those blocks complete the first write:
      // sent as they came, the layer member was whole before its check failed, and GNU tar took
      // the stream (one member, no end of archive) as a whole archive.
      'classic ← flip-first, one layer whose end completes a 1 MiB write',
      () => {
        const data = noise('edge', (1 << 20) - 1024);
        const tar = buildTar([{ path: 'blob', content: data }]);
        const layer: Layer = { tar, at: { first: 600, middle: 600, last: 512 + data.length - 100 } };
        return damagedSource('classic', 'flip-first', 'edge-stdout', [layer]);
      },
    ],
  ];
  it.each(cases)('%s: exit 2, the stream cut inside a member, tar -t refuses it', async (_name, source) => {
    const r = await cli(['flatten', source(), '-']);
    expect(r.stderr).toMatch(ERROR_LINE);
    expect(r.code).toBe(2);
    expect(r.stdout.length, 'the archive had begun when the check failed').toBeGreaterThan(0);
    expect(r.stdout.subarray(-ZERO_BLOCKS.length).equals(ZERO_BLOCKS), 'ends with two zero blocks').toBe(false);
    expect(r.stdout.includes(Buffer.from('manifest.json'))).toBe(false);
    const tar = spawnSync('tar', ['-t'], { input: r.stdout });
    const refused = tar.status !== 0 || /unexpected eof/i.test(tar.stderr.toString());
    expect(refused, `tar -t took the bytes as an archive: ${tar.stdout.toString()}`).toBe(true);
  });
});
