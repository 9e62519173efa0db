/** Which bottom layers --keep-base / --from-layer keep as they are. */
import { LayerflatError } from '../errors.js';
import type { Image } from '../image/types.js';

/**
 * How many bottom layers to keep. Keeping all of them (nothing above the base to squash — only
 * metadata-only history entries there, say) is not an error: the image is written unchanged.
 */
export function keepCount(image: Image, o: { keepBase?: number; fromLayer?: string }): number {
  const n = image.layers.length;
  if (n === 0) throw new LayerflatError('BAD_MANIFEST', `${image.origin}: the image has no layers`);
  if (o.keepBase !== undefined && o.fromLayer !== undefined) {
    throw new LayerflatError('USAGE', '--keep-base and --from-layer say the same thing; give one');
  }
  const keep = o.fromLayer !== undefined ? layerIndex(image, o.fromLayer) : (o.keepBase ?? 0);
  if (!Number.isInteger(keep) || keep < 0 || keep > n) {
    throw new LayerflatError('USAGE', `cannot keep ${keep} layers of an image that has ${n}`);
  }
  return keep;
}

function layerIndex(image: Image, spec: string): number {
  if (/^\d+$/.test(spec)) return Number(spec);
  const hits = image.layers.flatMap((l, i) => ([l.diffId, l.digest].some((d) => d?.startsWith(spec)) ? [i] : []));
  const unique = [...new Set(hits)];
  if (unique.length === 1) return unique[0]!;
  const list = image.layers.map((l, i) => `  ${i}: ${l.diffId}`).join('\n');
  const why = unique.length === 0 ? 'matches no layer' : 'matches several layers';
  throw new LayerflatError('USAGE', `--from-layer ${spec} ${why}; the layers are:\n${list}`);
}
