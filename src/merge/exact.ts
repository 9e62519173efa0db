/**
 * The exact plan, for what the one-pass planner cannot carry in one pass (it throws
 * ExactPlanNeeded before any of it is written for good): the engines' model (engine/model.ts)
 * is run over every layer's headers first, bottom-up, and the flat layer is then planned from
 * entries rewritten as that model says. Costs one more read of the layers' headers; ordinary
 * images never need it.
 */
import { EngineModel, type EntryOverride, type Overrides } from '../engine/model.js';
import { joinPath, splitPath, WHITEOUT_PREFIX } from '../engine/whiteout.js';
import { withContext } from '../errors.js';
import type { TarReadItem } from '../tar/reader.js';
import { rewriteHeader } from '../tar/writer.js';
import type { PlanItem, PlanLayer } from './plan.js';

export type { Overrides } from '../engine/model.js';

/**
 * What each entry of `layers` (bottom first) must say differently, from every layer's headers.
 * With --keep-base, what it says of a kept layer is only where its names landed (for the scan
 * that finds the whiteouts the flat layer needs); the `keep` kept layers are copied as stored.
 */
export async function exactOverrides<I extends PlanItem>(
  layers: readonly PlanLayer<I>[],
  keep = 0,
): Promise<Overrides> {
  const model = new EngineModel({ storedBelow: keep });
  for (const [i, layer] of layers.entries()) {
    model.startLayer(i);
    let ordinal = 0;
    for await (const item of layer.entries()) {
      try {
        model.apply(item.entry, ordinal++);
      } catch (err) {
        throw withContext(err, layer.where);
      }
    }
    model.endLayer();
  }
  return model.overrides();
}

/** `layer` with its entries rewritten (or dropped) as `overrides` say (by ordinal). */
export function overridden<I extends PlanItem>(
  layer: PlanLayer<I>,
  overrides: ReadonlyMap<number, EntryOverride> | undefined,
  rewrite: (item: I, o: EntryOverride) => I,
): PlanLayer<I> {
  if (!overrides || overrides.size === 0) return layer;
  return {
    where: layer.where,
    async *entries() {
      let ordinal = 0;
      for await (const item of layer.entries()) {
        const o = overrides.get(ordinal++);
        if (o?.drop && !o.asWhiteout) continue;
        if (o?.asWhiteout) yield rewrite(item, { path: whiteoutOf(o.path ?? item.entry.path) });
        else yield o ? rewrite(item, o) : item;
      }
    },
  };
}

/** The whiteout marker of `path`. */
function whiteoutOf(path: string): string {
  const { parent, base } = splitPath(path);
  return joinPath(parent, WHITEOUT_PREFIX + base);
}

/** A tar entry as the override says it must be written: its header rewritten, its data as stored. */
export function rewriteTarItem(item: TarReadItem, o: EntryOverride): TarReadItem {
  const { entry } = item;
  const header = rewriteHeader(entry, { path: o.path, linkname: o.linkname, meta: o.meta });
  const changed = {
    ...entry,
    header,
    path: o.path ?? entry.path,
    linkname: o.linkname ?? entry.linkname,
    ...(o.holdsContent ? { mustKeep: true } : {}),
  };
  if (!o.meta) return { entry: changed, body: item.body };
  const xattrs = new Map([...entry.xattrs, ...o.meta.xattrs]);
  const { mode, uid, gid, mtime } = o.meta;
  return { entry: { ...changed, mode, uid, gid, mtime, xattrs }, body: item.body };
}
