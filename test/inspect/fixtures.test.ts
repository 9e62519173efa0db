/**
 * inspect on the REAL engine fixtures of test/fixtures/ (skipped, with the reason printed, when a
 * fixture is missing): the totals must add up, agree with verify's independent merged view, and
 * the flat cost must be exactly what inspecting the flattened image finds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { flatten } from '../../src/flatten/flatten.js';
import { inspect } from '../../src/inspect/inspect.js';
import type { InspectResult } from '../../src/inspect/types.js';
import { openSource } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';
import { viewOfImage } from '../../src/verify/sides.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-inspect-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CASES: [string, string][] = [
  ['docker-rules.tar', 'docker-archive:%s'],
  ['podman-rules.tar', 'docker-archive:%s'],
  ['docker-multi.tar', 'docker-archive:%s:layerflat-fixture/second:v1'],
  ['oci-gzip', 'oci:%s:rules'],
  ['oci-zstd', 'oci:%s:rules'],
  ['rules.oci.tar', 'oci-archive:%s:rules'],
];

/** Regular-file bytes of the merged filesystem as verify builds it, each hardlinked file once. */
async function mergedFileBytes(source: string): Promise<number> {
  const opened = await openSource(parseReference(source, 'source'), {});
  try {
    const view = await viewOfImage(opened.image);
    const files = new Set([...view.walk()].flatMap(([, n]) => (n.value?.type === 'file' ? [n.value] : [])));
    return [...files].reduce((sum, f) => sum + f.size, 0);
  } finally {
    await opened.close();
  }
}

function checkTotals(r: InspectResult, layerCount: number): void {
  const sum = (pick: (l: InspectResult['layers'][number]) => number) => r.layers.reduce((s, l) => s + pick(l), 0);
  expect(r.totals.layers).toBe(layerCount);
  expect(r.layers.map((l) => l.index)).toEqual([...Array(layerCount).keys()]);
  expect(r.totals.tarBytes).toBe(sum((l) => l.tarBytes));
  expect(r.totals.compressedBytes).toBe(sum((l) => l.compressedBytes));
  expect(r.totals.wastedBytes).toBe(sum((l) => l.wastedBytes));
  // every regular file entry makes one inode: it is either visible at the end or wasted
  expect(r.totals.contentBytes - r.totals.wastedBytes).toBe(r.totals.mergedBytes);
  expect(r.totals.mergedBytes).toBe(r.layers.at(-1)!.mergedBytes);
  expect(r.vfs.imageBytes).toBe(sum((l) => l.vfsBytes));
  expect(r.vfs.imagePlusContainerBytes).toBe(r.vfs.imageBytes + r.vfs.flatImageBytes);
  for (const l of r.layers) {
    expect(l.entries).toBeGreaterThanOrEqual(l.added + l.changed + l.whiteouts + l.opaqueDirs);
    expect(l.vfsBytes % 4096).toBe(0);
    expect(l.vfsBytes).toBeGreaterThanOrEqual(l.mergedBytes);
  }
}

for (const [name, form] of CASES) {
  const file = path.join(FIXTURES, name);
  const present = fs.existsSync(file);
  if (!present)
    console.warn(`skipping inspect tests of test/fixtures/${name}: it does not exist (run scripts/make-fixtures.sh)`);
  describe.skipIf(!present)(`inspect ${name}`, () => {
    const source = form.replace('%s', file);

    it('adds up, and its merged size is the flattened filesystem verify sees', async () => {
      const opened = await openSource(parseReference(source, 'source'), {});
      const layerCount = opened.image.layers.length;
      const blobSizes = opened.image.layers.map((l) => l.size);
      await opened.close();
      const r = await inspect({ source });
      checkTotals(r, layerCount);
      r.layers.forEach((l, i) => blobSizes[i] !== undefined && expect(l.compressedBytes).toBe(blobSizes[i]));
      expect(r.totals.mergedBytes).toBe(await mergedFileBytes(source));
    });

    it('prices the flattened image at exactly what inspecting the flat image finds', async () => {
      const r = await inspect({ source });
      const dest = path.join(tmp, `${name}.flat.tar`);
      await flatten({ source, dest, force: true });
      const flat = await inspect({ source: dest });
      expect(flat.totals.layers).toBe(1);
      expect(flat.totals.wastedBytes).toBe(0);
      expect(flat.totals.mergedBytes).toBe(r.totals.mergedBytes);
      expect(flat.vfs.imageBytes).toBe(r.vfs.flatImageBytes);
      expect(flat.vfs.savingBytes).toBe(0);
    });
  });
}

const multiarch = path.join(FIXTURES, 'oci-multiarch');
describe.skipIf(!fs.existsSync(multiarch))('inspect oci-multiarch', () => {
  it.each(['linux/amd64', 'linux/arm64', 'linux/arm/v7'])('inspects the %s image', async (platform) => {
    const r = await inspect({ source: `oci:${multiarch}`, platform });
    expect(r.totals.layers).toBeGreaterThan(0);
    expect(r.totals.contentBytes - r.totals.wastedBytes).toBe(r.totals.mergedBytes);
  });
});
