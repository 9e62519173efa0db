/** Terminal formatting shared by the commands: sizes, durations, one-line errors. */
import { LayerflatError } from '../index.js';

/** 1536 → "1.5 KiB"; exact bytes below 1 KiB. */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

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
