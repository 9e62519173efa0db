/**
 * Crafted images unpacked into a scratch directory that also holds an `outside/` directory with
 * a victim file: what a breakout would touch. `unpackCase` checks that nothing but DIR appeared
 * and that outside/ is byte for byte as before, then hands back DIR (or the error), for the test
 * to hold against the engines' model of the same layers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { unpack, type UnpackOptions, type UnpackResult } from '../../src/unpack/unpack.js';
import { compareViews, type Difference } from '../../src/verify/compare.js';
import { viewOf } from '../../src/verify/sides.js';
import { configFor, toTar } from '../transports/handmade.js';
import { tempDir } from '../transports/helpers.js';
import { snapshot } from './cli.js';
import { viewOfDir } from './rootfs-view.js';
import { buildTar, type EntrySpec } from './tar-builder.js';

/** A docker-archive at `file` whose layers are `layers` (tars, or entry specs). */
export function writeArchive(file: string, layers: (EntrySpec[] | Buffer)[]): string {
  const tars = layers.map((l) => (Buffer.isBuffer(l) ? l : buildTar(l)));
  const files: Record<string, Buffer | string> = {
    'manifest.json': JSON.stringify([
      { Config: 'config.json', RepoTags: ['crafted/case:1'], Layers: tars.map((_, i) => `${i}/layer.tar`) },
    ]),
    'config.json': configFor(tars),
  };
  tars.forEach((t, i) => (files[`${i}/layer.tar`] = t));
  fs.writeFileSync(file, toTar(files));
  return file;
}

export interface Scratch {
  /** The scratch directory: img.tar, outside/, root/ (DIR). */
  base: string;
  image: string;
  dir: string;
  /** Absolute path of outside/ (what symlinks in the layers aim at). */
  outside: string;
}

/** A scratch directory with outside/victim and outside/sub/, and the image of `layers`. */
export function scratch(
  layers: (EntrySpec[] | Buffer)[] | ((s: Omit<Scratch, 'image'>) => (EntrySpec[] | Buffer)[]),
): Scratch {
  const base = tempDir();
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(outside, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'victim'), 'original\n');
  const dir = path.join(base, 'root');
  const specs = typeof layers === 'function' ? layers({ base, dir, outside }) : layers;
  const image = writeArchive(path.join(base, 'img.tar'), specs);
  return { base, image, dir, outside };
}

export type CaseOutcome = { result: UnpackResult; error?: undefined } | { result?: undefined; error: unknown };

/** Unpack the scratch image into its DIR; checks nothing else in the scratch directory changed. */
export async function unpackScratch(s: Scratch, o: Partial<UnpackOptions> = {}): Promise<CaseOutcome> {
  const before = snapshot(s.outside);
  let outcome: CaseOutcome;
  try {
    outcome = { result: await unpack({ source: s.image, dir: s.dir, ...o }) };
  } catch (error) {
    outcome = { error };
  }
  expect(snapshot(s.outside)).toEqual(before);
  expect(fs.readFileSync(path.join(s.outside, 'victim'), 'utf8')).toBe('original\n');
  const left = fs.readdirSync(s.base).sort();
  expect(left).toEqual(outcome.error ? ['img.tar', 'outside'] : ['img.tar', 'outside', 'root']);
  return outcome;
}

/** How DIR differs from the engines' model of the image (none, when unpack did its job). */
export async function differences(s: Scratch): Promise<Difference[]> {
  return compareViews(await viewOf(s.image), viewOfDir(s.dir));
}

/** Unpack and expect DIR to be exactly the engines' filesystem; returns the result. */
export async function expectUnpacked(s: Scratch, o: Partial<UnpackOptions> = {}): Promise<UnpackResult> {
  const outcome = await unpackScratch(s, o);
  if (outcome.result === undefined) throw outcome.error;
  expect(await differences(s)).toEqual([]);
  return outcome.result;
}

/** Unpack and expect it refused with `code` (and `message`), leaving nothing; the engines' model refuses it too. */
export async function expectRefused(s: Scratch, code: string, message?: RegExp): Promise<void> {
  const outcome = await unpackScratch(s);
  expect(outcome.error).toMatchObject({ code, ...(message ? { message: expect.stringMatching(message) } : {}) });
  await expect(viewOf(s.image)).rejects.toMatchObject({ code });
}

/** A path relative to the filesystem root as the binary string a tar name is ("/tmp/x" → "tmp/x"). */
export function rel(p: string): string {
  return Buffer.from(p.replace(/^\/+/, ''), 'utf8').toString('latin1');
}
