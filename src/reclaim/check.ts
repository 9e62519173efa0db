/**
 * The check of a flat image the engine loaded, pure: exactly one layer, whose diff_id is the one
 * flatten --verify produced and verified against the original (the engine hashed the layer itself
 * as it loaded it, so equal diff_ids mean equal bytes), and the same Config as the original.
 */
import type { StoredImage } from '../transports/types.js';

/** What is wrong with `flat` as the replacement of `original`; empty when nothing is. */
export function checkFlat(original: StoredImage, flat: StoredImage, flatDiffId: string): string[] {
  const problems: string[] = [];
  if (flat.layers.length !== 1) problems.push(`it has ${flat.layers.length} layers, not 1`);
  else if (flat.layers[0] !== flatDiffId) problems.push(`its layer is ${flat.layers[0]!}, not ${flatDiffId}`);
  if (canonical(flat.config) !== canonical(original.config)) problems.push('its Config differs from the original');
  if (flat.id === original.id) problems.push('it is the original itself');
  return problems;
}

/** JSON with object keys sorted, so key order does not count. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
