/**
 * Sizes for people, in the inspect report and chart and (through the library API) the CLI:
 * binary units, exact bytes below 1 KiB.
 */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB"; 0 → "0 B". */
export function sizeLabel(n: number): string {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[u]}`;
}

/** 3.94 → "3.9×". */
export function factorLabel(f: number): string {
  return `${f.toFixed(f >= 10 ? 0 : 1)}×`;
}

/** Short form of a digest: the algorithm's 12 first hex characters. */
export function shortHex(digest: string | undefined): string {
  if (!digest) return '';
  const hex = digest.slice(digest.indexOf(':') + 1);
  return hex.slice(0, 12);
}
