/**
 * Layers held in memory as real tar bytes, and their flat merge — for tests that pin one rule
 * without files or engines.
 */
import { expect } from 'vitest';
import type { LayerTar } from '../../src/layers/layer-tar.js';
import { measureMerge, mergeLayers } from '../../src/merge/output.js';
import { exactOverrides, overridden, rewriteTarItem } from '../../src/merge/exact.js';
import { baseMarkers } from '../../src/merge/plan.js';
import { ExactPlanNeeded } from '../../src/merge/planner.js';
import { readTar } from '../../src/tar/reader.js';
import { rechunk } from './rechunk.js';
import { buildTar, collectTar, type EntrySpec } from './tar-builder.js';

/** A layer read in random chunk sizes; counts how often it is opened. */
export function memLayer(specs: EntrySpec[], where = 'layer'): LayerTar & { passes: number } {
  const bytes = buildTar(specs);
  const layer = {
    where,
    passes: 0,
    entries: () => {
      layer.passes++;
      return readTar(rechunk(bytes, 'random', layer.passes));
    },
  };
  return layer;
}

/**
 * Merge `layers` (bottom first; `base` kept below them) and read the flat layer back — planned
 * exactly, as flatten does, when the one-pass plan asks for it.
 */
export async function flatMem(layers: LayerTar[], base: LayerTar[] = []) {
  const collect = async (merged: ReturnType<typeof mergeLayers>) => {
    const chunks: Buffer[] = [];
    for await (const c of merged.stream) chunks.push(Buffer.from(c));
    return chunks;
  };
  const merge = async (all: LayerTar[], exact: boolean) => {
    const scan = base.length ? await baseMarkers(all.slice(0, base.length), all.slice(base.length), exact) : undefined;
    return mergeLayers(all.slice(base.length), { base: scan, exact });
  };
  let merged = await merge([...base, ...layers], false);
  let chunks: Buffer[];
  try {
    chunks = await collect(merged);
  } catch (err) {
    if (!(err instanceof ExactPlanNeeded)) throw err;
    const overrides = await exactOverrides([...base, ...layers]);
    merged = await merge(
      [...base, ...layers].map((l, i) => overridden(l, overrides.get(i), rewriteTarItem)),
      true,
    );
    chunks = await collect(merged);
  }
  const bytes = Buffer.concat(chunks);
  expect(bytes.length % 512).toBe(0);
  expect(merged.stats.bytesOut).toBe(bytes.length);
  const entries = await collectTar(bytes);
  const byPath = new Map(entries.map((e) => [e.entry.path, e]));
  return { entries, byPath, stats: merged.stats, bytes };
}

/** Flatten layers given as entry specs; returns path → { type, content, linkname }. */
export async function flatSpecs(...layers: EntrySpec[][]) {
  const { entries } = await flatMem(layers.map((l, i) => memLayer(l, `layer ${i + 1}`)));
  return new Map(
    entries.map((e) => [e.entry.path, { type: e.entry.type, content: e.data.toString(), linkname: e.entry.linkname }]),
  );
}

/** measureMerge, planned exactly (as flatten does) when the one-pass plan asks for it. */
export async function measureMem(layers: LayerTar[]): Promise<number> {
  try {
    return await measureMerge(layers);
  } catch (err) {
    if (!(err instanceof ExactPlanNeeded)) throw err;
    const overrides = await exactOverrides(layers);
    return measureMerge(
      layers.map((l, i) => overridden(l, overrides.get(i), rewriteTarItem)),
      { exact: true },
    );
  }
}
