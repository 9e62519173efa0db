/**
 * Fuzzing the tar readers (readTar over a stream, scanTarFile over positioned reads): random
 * bytes and valid archives mutated every way tar-mutate.ts knows end as a list of entries or a
 * LayerflatError with a tar code — never another exception, never a hang — and the two readers
 * agree. Valid archives from our writer, and flat layers from our merge, read the same in
 * node-tar (an independent reader; it drops xattrs, so they are not compared).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Parser, type ReadEntry } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { LayerflatError, type ErrorCode } from '../../src/errors.js';
import type { TarEntry } from '../../src/tar/entry.js';
import { scanTarFile } from '../../src/tar/list-file.js';
import { readTar } from '../../src/tar/reader.js';
import { fuzz, fuzzRuns, fuzzTimeout, Outcomes, outcome, withinTime } from '../helpers/fuzz.js';
import { flatMem, memLayer } from '../helpers/mem-layers.js';
import { randomLayers } from '../helpers/random-layers.js';
import { rechunk } from '../helpers/rechunk.js';
import { buildTar, utf8, type EntrySpec } from '../helpers/tar-builder.js';
import { entrySpec, mutatedTar, randomBytes } from '../helpers/tar-mutate.js';

const FILE = 'test/tar/fuzz.test.ts';
const TAR_CODES: readonly ErrorCode[] = ['NOT_A_TAR', 'TRUNCATED', 'BAD_CHECKSUM', 'BAD_TAR', 'BAD_PATH'];
const CASE_MS = 5_000;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-fuzz-tar-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Seen {
  path: string;
  type: string;
  offset: number;
  headerLength: number;
  dataSize: number;
}

const seen = (e: TarEntry): Seen => ({
  path: e.path,
  type: e.type,
  offset: e.offset,
  headerLength: e.header.length,
  dataSize: e.dataSize,
});

/** What every entry either reader yields must satisfy, whatever the input. */
function checkEntry(e: TarEntry, prevEnd: number): void {
  expect(e.path.startsWith('/')).toBe(false);
  expect(e.path.endsWith('/')).toBe(false);
  expect(e.path.split('/')).not.toContain('..');
  if (e.type === 'hardlink') expect(e.linkname.split('/')).not.toContain('..');
  expect(e.header.length % 512).toBe(0);
  expect(e.header.length).toBeGreaterThan(0);
  expect(Number.isSafeInteger(e.dataSize) && e.dataSize >= 0).toBe(true);
  expect(e.offset).toBeGreaterThanOrEqual(prevEnd);
}

/** readTar to the end, reading some bodies and skipping others (`readMask` bit i: read entry i). */
async function readAll(tar: Buffer, chunkSeed: number, readMask: number): Promise<Seen[]> {
  const out: Seen[] = [];
  let end = 0;
  for await (const item of readTar(rechunk(tar, 'random', chunkSeed), { where: 'fuzz' })) {
    checkEntry(item.entry, end);
    end = item.entry.offset + item.entry.header.length + item.entry.dataSize;
    if ((readMask >>> (out.length % 31)) & 1) {
      let n = 0;
      for await (const c of item.body()) n += c.length;
      expect(n).toBe(item.entry.dataSize);
    }
    out.push(seen(item.entry));
  }
  return out;
}

let fileNo = 0;
async function scanAll(tar: Buffer): Promise<Seen[]> {
  const file = path.join(dir, `t${fileNo++}.tar`);
  fs.writeFileSync(file, tar);
  try {
    const out: Seen[] = [];
    let end = 0;
    for await (const e of scanTarFile(file, { where: 'fuzz' })) {
      checkEntry(e, end);
      end = e.offset + e.header.length + e.dataSize;
      out.push(seen(e));
    }
    return out;
  } finally {
    fs.rmSync(file);
  }
}

/** Both readers over `tar`: each ends well or with a tar code, and they agree where they can. */
async function bothReaders(tar: Buffer, chunkSeed: number, readMask: number, tally: Outcomes): Promise<void> {
  const streamed = await withinTime(
    outcome(() => readAll(tar, chunkSeed, readMask), TAR_CODES),
    CASE_MS,
    'readTar',
  );
  const scanned = await withinTime(
    outcome(() => scanAll(tar), TAR_CODES),
    CASE_MS,
    'scanTarFile',
  );
  tally.add(streamed);
  if (streamed.ok && scanned.ok) {
    expect(scanned.value).toEqual(streamed.value);
  } else if (streamed.ok !== scanned.ok) {
    // The one difference by design: the stream reader accepts an archive cut right after the last
    // entry's data (umoci writes those); the file reader, which sees the file's size, calls it TRUNCATED.
    const failed = (streamed.ok ? scanned : streamed) as { ok: false; error: { code: string } };
    expect({ scanFailed: !scanned.ok, code: failed.error.code }).toEqual({ scanFailed: true, code: 'TRUNCATED' });
  } else if (!streamed.ok && !scanned.ok) {
    expect(scanned.error.code).toBe(streamed.error.code);
  }
}

describe('tar readers under fuzzing', () => {
  const runs = fuzzRuns(400);
  it(`random bytes: entries or a tar error (${runs} runs)`, { timeout: fuzzTimeout(runs, 20) }, async () => {
    const tally = new Outcomes();
    const prop = fc.asyncProperty(randomBytes, fc.nat(), fc.nat(), (tar, seed, mask) =>
      bothReaders(tar, seed, mask, tally),
    );
    await fuzz(FILE, 'readTar+scanTarFile: random bytes', prop, runs, tally);
  });

  const mutatedRuns = fuzzRuns(800);
  it(
    `mutated archives: entries or a tar error, both readers agreeing (${mutatedRuns} runs)`,
    { timeout: fuzzTimeout(mutatedRuns, 20) },
    async () => {
      const tally = new Outcomes();
      const prop = fc.asyncProperty(mutatedTar, fc.nat(), fc.nat(), (tar, seed, mask) =>
        bothReaders(tar, seed, mask, tally),
      );
      await fuzz(FILE, 'readTar+scanTarFile: mutated archives', prop, mutatedRuns, tally);
    },
  );
});

// ---- node-tar as an independent reader ----------------------------------------------------------

interface Listed {
  path: string;
  type: string;
  size: number;
  linkname: string;
}

const NODE_TAR_TYPES: Record<string, string> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'dir',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
  CharacterDevice: 'chardev',
  BlockDevice: 'blockdev',
  FIFO: 'fifo',
};

/** Strip what node-tar leaves that our reader normalises: a directory's trailing "/", a leading "./". */
const tidy = (p: string) => p.replace(/\/+$/, '').replace(/^\.\//, '').replace(/^\.$/, '');

/** The entries node-tar sees, in strict mode (any warning is an error). */
function nodeTarList(tar: Buffer): Promise<Listed[]> {
  return new Promise((resolve, reject) => {
    const out: Listed[] = [];
    const parser = new Parser({ strict: true });
    parser.on('entry', (e: ReadEntry) => {
      const type = NODE_TAR_TYPES[e.type] ?? `other:${e.type}`;
      out.push({ path: tidy(e.path), type, size: e.size, linkname: e.linkpath ?? '' });
      e.resume();
    });
    parser.on('error', (err: Error & { code?: string }) => {
      // an archive of end blocks only (an empty flat layer) is "unrecognized" to node-tar
      if (err.code === 'TAR_BAD_ARCHIVE' && out.length === 0 && tar.length > 0 && !tar.some((b) => b !== 0)) {
        resolve([]);
      } else reject(err);
    });
    parser.on('end', () => resolve(out));
    parser.end(tar);
  });
}

/** Our reader's view in the same terms (names decoded as UTF-8, as node-tar decodes them). */
async function ourList(tar: Buffer): Promise<Listed[]> {
  const out: Listed[] = [];
  for await (const { entry } of readTar(rechunk(tar, 'random', tar.length))) {
    const text = (s: string) => Buffer.from(s, 'latin1').toString('utf8');
    out.push({ path: text(entry.path), type: entry.type, size: entry.dataSize, linkname: text(entry.linkname) });
  }
  return out;
}

/** Specs our reader accepts and node-tar reads the same way: clean relative UTF-8 names. */
const NAME = fc.constantFrom('a', 'b', 'etc', 'n'.repeat(99), 'L'.repeat(140), utf8('日本語'), utf8('café'));
const CLEAN = fc.oneof(NAME, fc.constant('.wh.a'));
const cleanPath = fc.array(CLEAN, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const cleanSpec: fc.Arbitrary<EntrySpec> = fc.tuple(entrySpec, cleanPath, cleanPath).map(([spec, p, link]) => ({
  ...spec,
  path: spec.type === 'dir' ? `${p}/` : p,
  ...(spec.linkname !== undefined ? { linkname: link } : {}),
}));

describe('node-tar reads what we write as we do', () => {
  const runs = fuzzRuns(300);
  it(`archives from our writer (${runs} runs)`, { timeout: fuzzTimeout(runs, 20) }, async () => {
    const prop = fc.asyncProperty(fc.array(cleanSpec, { minLength: 1, maxLength: 8 }), async (specs) => {
      const tar = buildTar(specs);
      expect(await ourList(tar)).toEqual(await nodeTarList(tar));
    });
    await fuzz(FILE, 'node-tar differential: writer', prop, runs);
  });

  const mergeRuns = fuzzRuns(150);
  it(`flat layers from our merge (${mergeRuns} runs)`, { timeout: fuzzTimeout(mergeRuns, 50) }, async () => {
    // randomLayers' names a, b, c stand for long, non-ASCII or plain names: rehomed links and new
    // headers then need pax or a ustar prefix.
    const names = fc.uniqueArray(NAME, { minLength: 3, maxLength: 3 });
    const prop = fc.asyncProperty(fc.integer({ min: 1, max: 1 << 30 }), names, async (seed, [a, b, c]) => {
      const to: Record<string, string> = { a: a!, b: b!, c: c! };
      const rename = (p: string) => p.replace(/[abc]/g, (n) => to[n]!);
      const layers = randomLayers(seed).map((layer, l) =>
        layer.map((e, o): EntrySpec => ({
          path: e.type === 'dir' ? `${rename(e.path)}/` : rename(e.path),
          type: e.type,
          ...(e.type === 'hardlink' || e.type === 'symlink' ? { linkname: rename(e.linkname) } : {}),
          ...(e.type === 'file' && !e.path.includes('.wh.') ? { content: `content ${l}:${o}` } : {}),
        })),
      );
      let bytes: Buffer;
      try {
        ({ bytes } = await flatMem(layers.map((l, i) => memLayer(l, `layer ${i}`))));
      } catch (err) {
        // Layers the engines refuse (a name below a file): no flat layer to compare.
        if (err instanceof LayerflatError && err.code === 'BAD_TAR') return;
        throw err;
      }
      expect(await ourList(bytes)).toEqual(await nodeTarList(bytes));
    });
    await fuzz(FILE, 'node-tar differential: merge output', prop, mergeRuns);
  });
});
