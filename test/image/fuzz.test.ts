/**
 * Fuzzing the document parsers: parseIndex, parseManifest, parseConfig, Digest.parse and
 * parseJSONBytes over arbitrary JSON values, damaged real documents (the committed OCI fixtures)
 * and random bytes. Each ends with a LayerflatError of a documented code or a result that is what
 * its type promises — so nothing downstream (flatConfig, the selectors) trips on it later.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { Digest } from '../../src/image/digest.js';
import { flatConfig } from '../../src/image/flat-config.js';
import { parseConfig, parseIndex, parseJSONBytes, parseManifest } from '../../src/image/manifest.js';
import { familiarImageName, parseImageName, sameImageName } from '../../src/image/name.js';
import { parsePlatform, platformMatches } from '../../src/image/platform.js';
import type { Descriptor, ImageConfig } from '../../src/image/types.js';
import { fuzz, fuzzRuns, fuzzTimeout, syncOutcome } from '../helpers/fuzz.js';
import { anyJson, mutatedJson, type Json } from '../helpers/json-mutate.js';

const FILE = 'test/image/fuzz.test.ts';
const DOC_CODES: readonly ErrorCode[] = ['BAD_MANIFEST', 'UNKNOWN_MEDIA_TYPE', 'UNSUPPORTED'];

/** Every JSON document of the committed OCI fixtures, by kind. */
function realDocuments(): { indexes: Json[]; manifests: Json[]; configs: Json[] } {
  const out = { indexes: [] as Json[], manifests: [] as Json[], configs: [] as Json[] };
  for (const layout of ['oci-gzip', 'oci-multiarch', 'oci-zstd']) {
    const root = path.join('test/fixtures', layout);
    const files = [path.join(root, 'index.json')];
    const blobs = path.join(root, 'blobs/sha256');
    for (const name of fs.readdirSync(blobs)) files.push(path.join(blobs, name));
    for (const file of files) {
      if (fs.statSync(file).size > 1 << 20) continue;
      let doc: Json;
      try {
        doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
      } catch {
        continue; // a layer
      }
      const o = doc as Record<string, unknown>;
      if (Array.isArray(o['manifests'])) out.indexes.push(doc);
      else if (Array.isArray(o['layers'])) out.manifests.push(doc);
      else if (o['rootfs']) out.configs.push(doc);
    }
  }
  return out;
}

const docs = realDocuments();

function checkDescriptor(d: Descriptor): void {
  expect(typeof d.mediaType === 'string' && d.mediaType !== '').toBe(true);
  expect(d.digest).toBeInstanceOf(Digest);
  expect(Digest.parse(String(d.digest)).equals(d.digest)).toBe(true);
  expect(Number.isSafeInteger(d.size) && d.size >= 0).toBe(true);
  for (const v of Object.values(d.annotations ?? {})) expect(typeof v).toBe('string');
  if (d.platform) {
    expect(typeof d.platform.os).toBe('string');
    expect(typeof d.platform.architecture).toBe('string');
    platformMatches(d.platform, { os: 'linux', architecture: 'amd64' });
  }
}

/** A config the parser accepted is what ImageConfig promises, and the flat config can be made of it. */
function checkConfig(c: ImageConfig): void {
  expect(c.rootfs.type).toBe('layers');
  for (const d of c.rootfs.diff_ids) Digest.parse(d);
  if (c.config !== undefined && c.config !== null) expect(typeof c.config).toBe('object');
  for (const h of c.history ?? []) {
    expect(typeof h === 'object' && h !== null && !Array.isArray(h), JSON.stringify(h)).toBe(true);
    for (const k of ['created', 'created_by', 'author', 'comment'] as const) {
      if (h[k] !== undefined && h[k] !== null) expect(typeof h[k], `history ${k}`).toBe('string');
    }
    if (h.empty_layer !== undefined && h.empty_layer !== null) expect(typeof h.empty_layer).toBe('boolean');
  }
  const n = c.rootfs.diff_ids.length;
  for (const keep of [0, Math.max(0, n - 1)]) {
    const flat = flatConfig(c, { keep, layerCount: Math.max(n, keep + 1), tool: 'layerflat fuzz' });
    JSON.stringify(flat);
  }
}

const index = (v: unknown) => {
  const r = syncOutcome(() => parseIndex(v, 'index.json'), DOC_CODES);
  if (r.ok) r.value.manifests.forEach(checkDescriptor);
};
const manifest = (v: unknown) => {
  const r = syncOutcome(() => parseManifest(v, 'manifest'), DOC_CODES);
  if (r.ok) [r.value.config, ...r.value.layers].forEach(checkDescriptor);
};
const config = (v: unknown) => {
  const r = syncOutcome(() => parseConfig(structuredClone(v), 'config'), DOC_CODES);
  if (r.ok) checkConfig(r.value);
};

describe('document parsers under fuzzing', () => {
  const runs = fuzzRuns(500);
  const timeout = fuzzTimeout(runs, 5);

  it(`any JSON value: parseIndex, parseManifest, parseConfig (${runs} runs)`, { timeout }, async () => {
    const prop = fc.property(anyJson, (v) => {
      index(v);
      manifest(v);
      config(v);
    });
    await fuzz(FILE, 'parseIndex/parseManifest/parseConfig: any JSON', prop, runs);
  });

  it(`damaged real documents (${runs} runs each kind)`, { timeout: timeout * 3 }, async () => {
    const kinds: Array<[string, Json[], (v: unknown) => void]> = [
      ['index', docs.indexes, index],
      ['manifest', docs.manifests, manifest],
      ['config', docs.configs, config],
    ];
    for (const [kind, real, parse] of kinds) {
      expect(real.length, kind).toBeGreaterThan(0);
      const damaged = fc.constantFrom(...real).chain((doc) => mutatedJson(doc));
      // a damaged document of one kind is also fed to the other parsers
      const prop = fc.property(damaged, (v) => {
        parse(v);
        index(v);
        manifest(v);
        config(v);
      });
      await fuzz(FILE, `damaged ${kind} documents`, prop, runs);
    }
  });

  it(`Digest.parse on strings and other values (${runs} runs)`, { timeout }, async () => {
    const text = fc.oneof(
      fc.string(),
      fc.stringMatching(/^(sha256|sha512|sha384|SHA256|blake3):[a-fA-F0-9=_-]{0,130}$/),
      fc
        .string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 })
        .map((h) => `sha256:${h}`),
      anyJson,
    );
    const prop = fc.property(text, (t) => {
      const r = syncOutcome(() => Digest.parse(t), ['BAD_MANIFEST', 'UNSUPPORTED']);
      if (r.ok) {
        expect(String(r.value)).toBe(t);
        expect(String(r.value)).toMatch(/^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/);
      }
    });
    await fuzz(FILE, 'Digest.parse', prop, runs);
  });

  it(`parseJSONBytes on random and damaged bytes (${runs} runs)`, { timeout }, async () => {
    const real = [...docs.indexes, ...docs.manifests, ...docs.configs].map((d) => Buffer.from(JSON.stringify(d)));
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.constantFrom(...real), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, at, x]) => {
        const c = Buffer.from(b);
        c[at % c.length]! ^= x;
        return c;
      }),
      fc.tuple(fc.constantFrom(...real), fc.nat()).map(([b, at]) => b.subarray(0, at % (b.length + 1))),
    );
    const prop = fc.property(bytes, (b) => {
      const r = syncOutcome(() => parseJSONBytes(b, 'doc'), ['BAD_MANIFEST']);
      if (r.ok) config(r.value);
    });
    await fuzz(FILE, 'parseJSONBytes', prop, runs);
  });

  it(`names and platforms from any text (${runs} runs)`, { timeout }, async () => {
    const text = fc.oneof(
      fc.string(),
      fc.stringMatching(/^([a-z0-9.:-]{0,12}\/){0,3}[a-zA-Z0-9._-]{0,20}(:[\w.-]{0,10})?(@sha256:[a-f0-9]{0,64})?$/),
      fc.stringMatching(/^[a-zA-Z0-9]{0,8}(\/[a-zA-Z0-9.]{0,8}){0,3}$/),
    );
    const prop = fc.property(text, text, (a, b) => {
      const n = parseImageName(a);
      if (n) expect(parseImageName(`${n.domain}/${n.path}:${n.tag}`)).toEqual(n);
      familiarImageName(a);
      sameImageName(a, b);
      const p = syncOutcome(() => parsePlatform(a), ['USAGE']);
      if (p.ok) platformMatches(p.value, p.value);
    });
    await fuzz(FILE, 'image names and platforms', prop, runs);
  });
});
