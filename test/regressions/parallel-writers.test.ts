/**
 * Writers side by side into one OCI layout (issue #9, "nothing overwritten"): skopeo users run
 * several copies into one layout from cron or CI. Every writer must exit 0, every ref must be kept
 * (a lost update of index.json would drop another writer's ref), and index.json must be valid
 * JSON whenever a reader looks. fsio/lock.ts serialises the update; the blobs and the index are
 * put in place by rename.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, smallImage, type CliResult } from '../helpers/cli.js';

let root: string;
let SMALL: string;
beforeAll(() => {
  ensureBuilt();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-parallel-'));
  SMALL = path.join(root, 'small.tar');
  fs.writeFileSync(SMALL, smallImage());
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const refsOf = (index: { manifests: { annotations?: Record<string, string> }[] }) =>
  index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '');

/**
 * Watch `layout`'s index.json while `work` runs: every read must parse, and a ref once seen must
 * be in every later read (nobody's update is lost). Returns what `work` returned and how many reads.
 */
async function watched<T>(layout: string, work: () => Promise<T>): Promise<{ result: T; reads: number }> {
  const seen = new Set<string>();
  const problems: string[] = [];
  let reads = 0;
  const look = () => {
    let text: string;
    try {
      text = fs.readFileSync(path.join(layout, 'index.json'), 'utf8');
    } catch {
      return; // a new layout not there yet
    }
    reads++;
    try {
      const refs = new Set(refsOf(JSON.parse(text)));
      for (const r of seen) if (!refs.has(r)) problems.push(`ref ${r} lost`);
      for (const r of refs) seen.add(r);
    } catch (err) {
      problems.push(`index.json is not valid JSON: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(look, 3);
  try {
    const result = await work();
    look();
    expect(problems).toEqual([]);
    return { result, reads };
  } finally {
    clearInterval(timer);
  }
}

const writer = (layout: string, ref: string) => () =>
  runCli(['flatten', SMALL, `oci:${layout}:${ref}`, '-q'], { env: { ...process.env, TMPDIR: root } });

function expectAllWell(results: CliResult[], layout: string, refs: string[]): void {
  expect(results.map((r) => [r.code, r.stderr])).toEqual(results.map(() => [0, '']));
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
  expect(refsOf(index).sort()).toEqual([...refs].sort());
  expect(fs.readdirSync(layout).sort()).toEqual(['blobs', 'index.json', 'oci-layout']); // no lock, no temporaries
}

describe('parallel writers into one OCI layout', () => {
  it('12 writers at once, over 5 rounds, into an existing layout: every ref kept, every writer exits 0', async () => {
    const layout = path.join(root, 'shared');
    expect((await writer(layout, 'base')()).code).toBe(0);
    const refs = ['base'];
    let reads = 0;
    for (let round = 0; round < 5; round++) {
      const names = Array.from({ length: 12 }, (_, i) => `round${round}-writer${i}`);
      const w = await watched(layout, () => Promise.all(names.map((n) => writer(layout, n)())));
      reads += w.reads;
      refs.push(...names);
      expectAllWell(w.result, layout, refs);
    }
    expect(reads).toBeGreaterThan(10); // the index was really looked at while writers ran
  }, 180_000);

  it('2 writers at once, over 15 rounds', async () => {
    const layout = path.join(root, 'pair');
    expect((await writer(layout, 'base')()).code).toBe(0);
    const refs = ['base'];
    for (let round = 0; round < 15; round++) {
      const names = [`a${round}`, `b${round}`];
      const w = await watched(layout, () => Promise.all(names.map((n) => writer(layout, n)())));
      refs.push(...names);
      expectAllWell(w.result, layout, refs);
    }
  }, 180_000);

  it('8 writers at once into a layout that does not exist yet: one creates it, the others join it', async () => {
    const parent = fs.mkdtempSync(path.join(root, 'parent-'));
    const layout = path.join(parent, 'new');
    const names = Array.from({ length: 8 }, (_, i) => `writer${i}`);
    const w = await watched(layout, () => Promise.all(names.map((n) => writer(layout, n)())));
    expectAllWell(w.result, layout, names);
    expect(fs.readdirSync(parent)).toEqual(['new']); // no staged layout of the writers that joined
  });
});
