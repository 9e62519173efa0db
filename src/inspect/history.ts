/**
 * Which build step made each layer: the config's history, less its `empty_layer` entries, lines
 * up with the layers bottom-up. When the counts differ (history edited or lost) nothing is
 * matched, because a guess would pin a layer's cost on the wrong command.
 */
import type { HistoryEntry } from '../image/types.js';

/** `created_by` of each layer, or undefined for all of them when history does not match. */
export function layerCommands(
  history: readonly HistoryEntry[] | undefined,
  layerCount: number,
): (string | undefined)[] {
  const made = (history ?? []).filter((h) => !h.empty_layer);
  if (made.length !== layerCount) return Array.from({ length: layerCount }, () => undefined);
  return made.map((h) => h.created_by);
}
