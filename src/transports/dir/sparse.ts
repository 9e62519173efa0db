/**
 * Where the stored bytes of a sparse tar entry go in the real file: each stored region at its
 * offset, the holes left unwritten (the file is then truncated to its real size). Old GNU and pax
 * 0.0/0.1 entries carry the region map in their headers; pax 1.0 puts it at the start of the
 * data, as decimal lines (count, then offset and length of each region) padded to 512 bytes.
 */
import { LayerflatError } from '../../errors.js';
import type { SparseInfo } from '../../tar/entry.js';

interface Region {
  offset: number;
  length: number;
}

/** A piece of data and where it goes in the real file. */
export interface Placed {
  at: number;
  data: Buffer;
}

/** The stored `chunks` of a sparse entry as positioned writes. */
export async function* sparseWrites(chunks: AsyncIterable<Buffer>, info: SparseInfo): AsyncGenerator<Placed> {
  let regions = info.map;
  let head: Buffer[] = [];
  let skip = 0;
  let r = 0;
  let done = 0;
  for await (let chunk of chunks) {
    if (!regions) {
      head.push(chunk);
      const parsed = parseMap(Buffer.concat(head));
      if (!parsed) continue;
      regions = parsed.regions;
      chunk = Buffer.concat(head);
      head = [];
      skip = parsed.dataStart;
    }
    if (skip > 0) {
      const n = Math.min(skip, chunk.length);
      skip -= n;
      chunk = chunk.subarray(n);
    }
    while (chunk.length > 0) {
      while (r < regions.length && done === regions[r]!.length) [r, done] = [r + 1, 0];
      if (r >= regions.length) throw bad('more data than its sparse map holds');
      const region = regions[r]!;
      const n = Math.min(region.length - done, chunk.length);
      yield { at: region.offset + done, data: chunk.subarray(0, n) };
      done += n;
      chunk = chunk.subarray(n);
    }
  }
  if (!regions) throw bad('its pax 1.0 sparse map is cut short');
}

/** A pax 1.0 map at the start of `bytes`, once it is all there; its data start after the padding. */
function parseMap(bytes: Buffer): { regions: Region[]; dataStart: number } | undefined {
  const numbers: number[] = [];
  let start = 0;
  let count: number | undefined;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    const text = bytes.toString('latin1', start, i);
    if (!/^\d{1,15}$/.test(text)) throw bad(`its pax 1.0 sparse map holds ${JSON.stringify(text)}`);
    numbers.push(Number(text));
    start = i + 1;
    count ??= numbers[0];
    if (count !== undefined && numbers.length === 1 + 2 * count) {
      const regions: Region[] = [];
      for (let k = 0; k < count; k++) regions.push({ offset: numbers[1 + 2 * k]!, length: numbers[2 + 2 * k]! });
      return { regions, dataStart: Math.ceil(start / 512) * 512 };
    }
  }
  if (bytes.length > 1 << 20) throw bad('its pax 1.0 sparse map is over 1 MiB');
  return undefined;
}

function bad(why: string): LayerflatError {
  return new LayerflatError('BAD_TAR', `a sparse file whose data does not fit: ${why}`);
}
