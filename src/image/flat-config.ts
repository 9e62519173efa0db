/**
 * The flat image's config: the source config kept whole — Env, Cmd, Entrypoint, User,
 * WorkingDir, ExposedPorts, Volumes, Labels, Healthcheck, StopSignal, OnBuild, Shell, platform,
 * created and any field we do not know — with only the history rewritten. The sink fills in
 * rootfs.diff_ids once it has hashed the layers.
 */
import type { HistoryEntry, ImageConfig } from './types.js';

export interface FlatConfigOptions {
  /** Bottom layers kept as they are (--keep-base). */
  keep: number;
  /** Total layers of the source image. */
  layerCount: number;
  /** "layerflat 0.1.0", recorded in the new history entry. */
  tool: string;
}

/**
 * Rewrite the history: metadata-only entries (empty_layer) stay where they were; the entries of
 * the squashed layers become one entry, placed where the last of them stood. When the history
 * does not match the layers (some builders write none), the squashed entry is appended.
 */
export function flatConfig(config: ImageConfig, o: FlatConfigOptions): ImageConfig {
  const history = config.history ?? [];
  const layered = history.filter((h) => !h.empty_layer).length;
  const squashedCount = o.layerCount - o.keep;
  const entry = squashEntry(config, history, o, squashedCount);
  if (layered !== o.layerCount) {
    return { ...config, history: [...history.filter((h) => h.empty_layer), entry] };
  }
  const out: HistoryEntry[] = [];
  let seen = 0;
  for (const h of history) {
    if (h.empty_layer) out.push(h);
    else if (seen++ < o.keep) out.push(h);
    else if (seen === o.layerCount) out.push({ ...entry, created: h.created ?? entry.created });
  }
  return { ...config, history: out };
}

function squashEntry(config: ImageConfig, history: HistoryEntry[], o: FlatConfigOptions, n: number): HistoryEntry {
  const steps = history.filter((h) => !h.empty_layer).slice(o.keep);
  const first = o.keep + 1;
  const range = n === 1 ? `layer ${first}` : `layers ${first}-${o.layerCount}`;
  const entry: HistoryEntry = {
    created: steps.at(-1)?.created ?? config.created,
    created_by: `${o.tool}: squashed ${range} of ${o.layerCount} into one`,
    comment:
      steps
        .map((h) => shorten(h.created_by ?? ''))
        .filter(Boolean)
        .join(' ; ')
        .slice(0, 4000) || undefined,
  };
  if (entry.comment === undefined) delete entry.comment;
  return entry;
}

function shorten(createdBy: string): string {
  const s = createdBy
    .replace(/^\/bin\/sh -c (#\(nop\) )?/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
