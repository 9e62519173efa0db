/**
 * Fuzzing whole inputs through the library: docker-archives (classic and Docker >= 25), OCI
 * layouts and oci-archives built in code, damaged (fuzz-images.ts), then flattened with
 * `flatten()` into a fresh directory, from a path or from stdin, to every destination format.
 * Each run resolves or rejects with a LayerflatError; afterwards the destination directory holds
 * the output alone (or nothing, on failure), --tmp-dir and the OS temp dir are empty, and the
 * source is untouched: nothing was written outside DEST.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { parseDockerManifest, selectDockerEntry } from '../../src/formats/docker-archive/manifest.js';
import { Digest } from '../../src/image/digest.js';
import { flatten, type FlattenOptions } from '../../src/index.js';
import { fuzz, fuzzRuns, fuzzTimeout, Outcomes, outcome, syncOutcome, withinTime } from '../helpers/fuzz.js';
import { buildImage, filesToDir, filesToTar, imageCase, isDirectory, type ImageCase } from '../helpers/fuzz-images.js';
import { anyJson } from '../helpers/json-mutate.js';

const FILE = 'test/formats/fuzz.test.ts';
const CASE_MS = 30_000;

/** Every code a bad input may end with. VERIFY_FAILED is not one: the output must be the input's filesystem. */
const INPUT_CODES: readonly ErrorCode[] = [
  'BAD_REFERENCE',
  'NOT_FOUND',
  'REF_NOT_FOUND',
  'AMBIGUOUS_REF',
  'PLATFORM_NOT_FOUND',
  'NOT_A_TAR',
  'TRUNCATED',
  'BAD_CHECKSUM',
  'BAD_TAR',
  'BAD_PATH',
  'DIGEST_MISMATCH',
  'SIZE_MISMATCH',
  'BAD_MANIFEST',
  'UNKNOWN_MEDIA_TYPE',
  'UNSUPPORTED',
  'USAGE',
  'IO', // only with an operating-system error as its cause (a symlink loop in a layout): see expectKnown
];

// Everything this file makes lives under one directory, and the OS temp dir points into it, so
// a temporary left anywhere is seen.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-fuzz-formats-'));
const osTmp = path.join(root, 'os-tmp');
fs.mkdirSync(osTmp);
const savedTmp = process.env['TMPDIR'];
process.env['TMPDIR'] = osTmp;
afterAll(() => {
  if (savedTmp === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = savedTmp;
  fs.rmSync(root, { recursive: true, force: true });
});

/** Every path under `dir` with its type, size and mtime: a fingerprint to see any change by. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      out.push(
        `${path.relative(dir, p)} ${st.isSymbolicLink() ? 'l' : st.isDirectory() ? 'd' : 'f'} ${st.size} ${st.mtimeMs}`,
      );
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

interface Run {
  sourceKind: 'typed' | 'bare' | 'stdin' | 'wrong';
  dest: 'docker-archive' | 'oci' | 'oci-archive' | 'bare' | 'stdout';
  verify: boolean;
  compression: FlattenOptions['compression'];
  keepBase: number | undefined;
  tmpDir: boolean;
  platform: string | undefined;
}

const runOptions: fc.Arbitrary<Run> = fc.record({
  sourceKind: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<Run['sourceKind']>('typed', 'bare', 'stdin') },
    { weight: 1, arbitrary: fc.constant<Run['sourceKind']>('wrong') },
  ),
  dest: fc.constantFrom<Run['dest']>('docker-archive', 'oci', 'oci-archive', 'bare', 'stdout'),
  verify: fc.boolean(),
  compression: fc.constantFrom<FlattenOptions['compression']>(undefined, undefined, 'none', 'gzip', 'zstd'),
  keepBase: fc.constantFrom(undefined, undefined, undefined, undefined, undefined, undefined, 1, 2, 5),
  tmpDir: fc.boolean(),
  platform: fc.constantFrom(undefined, undefined, undefined, 'linux/amd64', 'linux/arm64'),
});

/** With LAYERFLAT_FUZZ_KEEP=DIR, the source of a failing case is copied there to look at. */
function keep(srcDir: string): void {
  const to = process.env['LAYERFLAT_FUZZ_KEEP'];
  if (to) fs.cpSync(srcDir, path.join(to, `${path.basename(path.dirname(srcDir))}-${Date.now()}`), { recursive: true });
}

let caseNo = 0;
const flattenOutcomes = new Outcomes();

/** Build the case's image, flatten it as `run` says, and check what is left on disk. */
async function flattenCase(c: ImageCase, run: Run): Promise<void> {
  const dir = path.join(root, `case-${caseNo++}`);
  const srcDir = path.join(dir, 'src');
  const destDir = path.join(dir, 'dest');
  const tmpDir = path.join(dir, 'tmp');
  for (const d of [srcDir, destDir, tmpDir]) fs.mkdirSync(d, { recursive: true });
  const files = buildImage(c);
  const directory = isDirectory(c);
  const src = path.join(srcDir, directory ? 'layout' : 'image.tar');
  let tarBytes: Buffer | undefined;
  if (directory) filesToDir(src, files);
  else fs.writeFileSync(src, (tarBytes = filesToTar(files)));
  const before = snapshot(srcDir);

  const transport = c.format === 'oci' ? 'oci' : c.format === 'oci-archive' ? 'oci-archive' : 'docker-archive';
  const wrong = { oci: 'oci-archive', 'oci-archive': 'docker-archive', 'docker-archive': 'oci' }[transport];
  const stdin = run.sourceKind === 'stdin' && tarBytes !== undefined;
  const source = stdin
    ? '-'
    : run.sourceKind === 'bare'
      ? src
      : `${run.sourceKind === 'wrong' ? wrong : transport}:${src}`;
  const destName = run.dest === 'oci' ? 'layout' : 'out.tar';
  const destPath = path.join(destDir, destName);
  const dest = run.dest === 'stdout' ? '-' : run.dest === 'bare' ? destPath : `${run.dest}:${destPath}`;
  const chunks: Buffer[] = [];
  const stdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  const options: FlattenOptions = {
    source,
    dest,
    verify: run.verify,
    ...(run.compression ? { compression: run.compression } : {}),
    ...(run.keepBase !== undefined ? { keepBase: run.keepBase } : {}),
    ...(run.tmpDir ? { tmpDir } : {}),
    ...(run.platform ? { platform: run.platform } : {}),
    ...(stdin ? { stdin: Readable.from([tarBytes!]) } : {}),
    stdout,
  };
  const result = await withinTime(
    outcome(() => flatten(options), INPUT_CODES),
    CASE_MS,
    `flatten ${source} ${dest}`,
  ).catch((err: unknown) => {
    keep(srcDir);
    throw err;
  });

  flattenOutcomes.add(result);
  expect(snapshot(srcDir), 'the source is untouched').toEqual(before);
  expect(fs.readdirSync(tmpDir), '--tmp-dir is left empty').toEqual([]);
  expect(fs.readdirSync(osTmp), 'the OS temp dir is left empty').toEqual([]);
  const left = fs.readdirSync(destDir);
  if (result.ok && run.dest !== 'stdout') expect(left, 'DEST holds the output alone').toEqual([destName]);
  else expect(left, 'nothing is left beside DEST').toEqual([]);
  if (result.ok && run.dest === 'stdout') expect(Buffer.concat(chunks).length % 512).toBe(0);
  fs.rmSync(dir, { recursive: true, force: true });
}

describe('flatten() under fuzzing', () => {
  const runs = fuzzRuns(40, 20);
  it(
    `damaged images of every format, to every destination (${runs} runs)`,
    { timeout: fuzzTimeout(runs, 500) },
    async () => {
      const prop = fc.asyncProperty(imageCase, runOptions, (c, run) => flattenCase(c, run));
      await fuzz(FILE, 'flatten(): damaged images', prop, runs, flattenOutcomes);
    },
  );
});

describe('docker-archive manifest.json under fuzzing', () => {
  const runs = fuzzRuns(500);
  it(
    `parseDockerManifest and selectDockerEntry on any JSON (${runs} runs)`,
    { timeout: fuzzTimeout(runs, 5) },
    async () => {
      const ref = fc.constantFrom(
        undefined,
        '@0',
        '@1',
        '@99',
        'fuzz',
        'fuzz:latest',
        'sha256:aaaa',
        'aaaa',
        'x/y:z',
        '',
      );
      const prop = fc.asyncProperty(anyJson, ref, async (doc, r) => {
        const parsed = syncOutcome(() => parseDockerManifest(doc, 'manifest.json'), ['BAD_MANIFEST']);
        if (!parsed.ok) return;
        const entries = parsed.value;
        const picked = await outcome(
          () => selectDockerEntry(entries, r, 'x.tar', async () => Digest.of('config')),
          ['AMBIGUOUS_REF', 'REF_NOT_FOUND'],
        );
        if (picked.ok) expect(entries[picked.value]).toBeDefined();
      });
      await fuzz(FILE, 'parseDockerManifest/selectDockerEntry', prop, runs);
    },
  );
});
