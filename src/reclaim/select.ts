/**
 * Which images reclaim takes, pure: name patterns (shell globs), --min-layers, and --min-saving
 * against the VFS model `inspect` reports (bytes or a factor). Images with one layer, with no
 * name, or with a reclaim of theirs in the journal are left alone.
 */
import { LayerflatError } from '../errors.js';
import type { VfsCost } from '../inspect/types.js';
import type { StoredImage } from '../transports/types.js';

/** --min-saving: at least this many bytes, or at least this ratio of layered to flat. */
export type MinSaving = { bytes: number } | { factor: number };

export interface SelectOptions {
  /** Shell-style globs (`*`, `?`, `[…]`) on image names; none means every image. */
  patterns?: readonly string[];
  /** Images with fewer layers are left as they are (default 2: anything not already flat). */
  minLayers?: number;
}

export interface Skipped {
  image: StoredImage;
  reason: string;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "500M", "2G", "1.5GiB", "123456": bytes, binary units; undefined when TEXT is not one. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  return m ? Math.round(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!) : undefined;
}

/** "500M", "2G", "1.5GiB", "123456" (bytes, binary units), or "2x" (a factor). */
export function parseMinSaving(text: string): MinSaving {
  const factor = /^(\d+(?:\.\d+)?)x$/i.exec(text.trim());
  if (factor) {
    const f = Number(factor[1]);
    if (f >= 1) return { factor: f };
  }
  const bytes = factor ? undefined : parseBytes(text);
  if (bytes !== undefined) return { bytes };
  throw new LayerflatError(
    'USAGE',
    `--min-saving ${JSON.stringify(text)}: expected bytes (500M, 2G, 123456) or a factor of at least 1 (2x)`,
  );
}

/** A shell glob as a RegExp over the whole string; `*` and `?` also match "/". */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The forms of a name a pattern is tried against: as listed, and without "localhost/"; the repo alone too. */
function nameForms(name: string): string[] {
  const short = name.replace(/^localhost\//, '');
  const repo = (n: string) => n.replace(/:[^:/]*$/, '');
  return [...new Set([name, short, repo(name), repo(short)])];
}

/** Whether any of `names` matches any pattern (no patterns: yes). */
export function matchesPatterns(names: readonly string[], patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  const res = patterns.map(globRegExp);
  return names.some((n) => nameForms(n).some((f) => res.some((re) => re.test(f))));
}

/** The images to reclaim, and the others with why; `busy` are image IDs a journal record holds. */
export function selectImages(
  images: readonly StoredImage[],
  options: SelectOptions,
  busy: ReadonlySet<string> = new Set(),
): { chosen: StoredImage[]; skipped: Skipped[] } {
  const minLayers = Math.max(2, options.minLayers ?? 2);
  const chosen: StoredImage[] = [];
  const skipped: Skipped[] = [];
  for (const image of images) {
    const reason = skipReason(image, options.patterns ?? [], minLayers, busy);
    if (reason === undefined) chosen.push(image);
    else if (reason !== '') skipped.push({ image, reason });
  }
  return { chosen, skipped };
}

/** Why `image` is left alone; '' for an image the patterns do not name (not reported). */
function skipReason(image: StoredImage, patterns: readonly string[], minLayers: number, busy: ReadonlySet<string>) {
  if (busy.has(image.id)) return 'a reclaim of it is in the journal';
  if (image.names.some(isTempName)) return ''; // our own temporary image
  if (image.names.length === 0) return patterns.length === 0 ? 'it has no name' : '';
  if (!matchesPatterns(image.names, patterns)) return '';
  if (image.layers.length === 1) return 'already flat (1 layer)';
  if (image.layers.length < minLayers) return `${image.layers.length} layers, fewer than --min-layers ${minLayers}`;
  return undefined;
}

/** Whether the predicted VFS saving meets --min-saving; the reason when it does not. */
export function savingShortfall(vfs: VfsCost, min: MinSaving | undefined): string | undefined {
  if (min === undefined) return undefined;
  if ('bytes' in min) {
    return vfs.savingBytes >= min.bytes
      ? undefined
      : `predicted saving ${vfs.savingBytes} bytes, under --min-saving ${min.bytes}`;
  }
  return vfs.savingFactor >= min.factor
    ? undefined
    : `predicted saving ${vfs.savingFactor.toFixed(2)}x, under --min-saving ${min.factor}x`;
}

/** The temporary name a reclaim loads the flat image under. */
export function tempName(originalId: string): string {
  return `localhost/layerflat-reclaim/${originalId.slice(0, 12)}:flat`;
}

export function isTempName(name: string): boolean {
  return /^localhost\/layerflat-reclaim\/[a-f0-9]{12}:flat$/.test(name);
}
