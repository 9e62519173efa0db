/**
 * Fuzzing the built CLI as users run it: damaged images (fuzz-images.ts) given to
 * `layerflat flatten`, `verify` and `inspect`, from a path or stdin. flatten and inspect exit 0
 * or 2, verify 0, 1 or 2 — never 70 (a bug), never killed by a signal, never hung (each process
 * is killed after a time bound) — a failure is one line "layerflat: error [CODE]: …" on stderr,
 * and nothing is left beside DEST or in the temp dir.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzz, fuzzRuns, fuzzTimeout, Outcomes } from '../helpers/fuzz.js';
import { buildImage, filesToDir, filesToTar, imageCase, isDirectory, type ImageCase } from '../helpers/fuzz-images.js';

const FILE = 'test/cli/fuzz.test.ts';
const BIN = path.resolve('dist/cli/main.js');
const PROCESS_MS = 30_000;

let root: string;
beforeAll(() => {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-fuzz-cli-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: string;
}

/** Run the CLI with `args` (and `input` on stdin), killed after PROCESS_MS; TMPDIR is `tmp`. */
function cli(args: string[], tmp: string, input?: Buffer): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TMPDIR: tmp } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined); // the CLI may fail before reading all of stdin
    const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString();
      if (signal === 'SIGKILL') reject(new Error(`HANG: layerflat ${args.join(' ')} ran over ${PROCESS_MS} ms`));
      else resolve({ code, signal, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.end(input);
  });
}

/** The exit code is one of `allowed`, and a failure says so in one line of the documented form. */
function expectExit(r: Ran, allowed: number[], what: string): void {
  expect({ what, code: r.code, signal: r.signal, stderr: r.stderr }).toMatchObject({ code: expect.toBeOneOf(allowed) });
  if (r.code === 2) {
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, `${what}: one line on stderr`).toHaveLength(1);
    expect(lines[0], what).toMatch(/^layerflat: error \[[A-Z_]+\]: /);
  }
}

interface CliRun {
  stdin: boolean;
  dest: 'file' | 'oci' | 'stdout';
  verify: boolean;
  compress: 'none' | 'gzip' | undefined;
}

const cliRun: fc.Arbitrary<CliRun> = fc.record({
  stdin: fc.boolean(),
  dest: fc.constantFrom<CliRun['dest']>('file', 'file', 'oci', 'stdout'),
  verify: fc.boolean(),
  compress: fc.constantFrom<CliRun['compress']>(undefined, 'none', 'gzip'),
});

let caseNo = 0;
const exits = new Outcomes();

async function cliCase(c: ImageCase, run: CliRun): Promise<void> {
  const dir = path.join(root, `case-${caseNo++}`);
  const destDir = path.join(dir, 'dest');
  const tmp = path.join(dir, 'tmp');
  for (const d of [destDir, tmp]) fs.mkdirSync(d, { recursive: true });
  const files = buildImage(c);
  const directory = isDirectory(c);
  const src = path.join(dir, directory ? 'layout' : 'image.tar');
  let bytes: Buffer | undefined;
  if (directory) filesToDir(src, files);
  else fs.writeFileSync(src, (bytes = filesToTar(files)));
  const stdin = run.stdin && bytes !== undefined;

  const destPath = path.join(destDir, run.dest === 'oci' ? 'layout' : 'out.tar');
  const dest = run.dest === 'stdout' ? '-' : run.dest === 'oci' ? `oci:${destPath}` : destPath;
  const args = ['flatten', stdin ? '-' : src, dest, '-q'];
  if (run.verify) args.push('--verify');
  if (run.compress) args.push('--compress', run.compress);
  const flat = await cli(args, tmp, stdin ? bytes : undefined);
  exits.add(`flatten ${flat.code}`);
  expectExit(flat, [0, 2], args.join(' '));
  const left = fs.readdirSync(destDir);
  expect(left).toEqual(flat.code === 0 && run.dest !== 'stdout' ? [path.basename(destPath)] : []);

  // verify the output against its source (or, when there is none, the source against a fixture)
  const other = flat.code === 0 ? (run.dest === 'stdout' ? '-' : dest) : 'test/fixtures/docker-rules.tar';
  const verify = await cli(['verify', src, other], tmp, other === '-' ? flat.stdout : undefined);
  exits.add(`verify ${verify.code}`);
  expectExit(verify, [0, 1, 2], `verify ${src} ${other}`);
  if (flat.code === 0) expect(verify.code, `the flat image is the source's filesystem: ${verify.stdout}`).toBe(0);

  const inspect = await cli(['inspect', stdin ? '-' : src], tmp, stdin ? bytes : undefined);
  exits.add(`inspect ${inspect.code}`);
  expectExit(inspect, [0, 2], `inspect ${src}`);
  expect(fs.readdirSync(tmp), 'the temp dir is left empty').toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
}

describe('the CLI under fuzzing', () => {
  const runs = fuzzRuns(4, 200);
  it(
    `flatten, verify and inspect of damaged images (${runs} runs)`,
    { timeout: fuzzTimeout(runs, 5_000) },
    async () => {
      const prop = fc.asyncProperty(imageCase, cliRun, (c, run) => cliCase(c, run));
      await fuzz(FILE, 'CLI: flatten/verify/inspect exit codes', prop, runs, exits);
    },
  );
});
