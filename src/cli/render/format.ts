/** Terminal formatting shared by the commands: sizes, durations, one-line errors. */
import { LayerflatError } from '../../index.js';
import { sizeLabel } from './units.js';

/** 1536 → "1.5 KiB"; exact bytes below 1 KiB (the same labels inspect draws). */
export const humanBytes = sizeLabel;

export function humanSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

/** "layerflat: error [CODE]: message" — plus the cause chain, one line each, for bugs. */
export function formatError(err: unknown): string {
  if (err instanceof LayerflatError) return `layerflat: error [${err.code}]: ${err.message}`;
  const e = err as Error;
  return `layerflat: internal error: ${e?.stack ?? String(err)}`;
}
