/**
 * Feed a buffer to a stream consumer in chosen chunk sizes: 'bytes' (one byte at a time),
 * 'random' (seeded sizes from 1 byte to ~3 blocks, so every boundary gets crossed), or a fixed size.
 */
export async function* rechunk(buf: Buffer, mode: 'bytes' | 'random' | number, seed = 1): AsyncIterable<Buffer> {
  const next = mulberry32(seed);
  let pos = 0;
  while (pos < buf.length) {
    const size = mode === 'bytes' ? 1 : mode === 'random' ? randomSize(next) : Math.max(1, mode);
    yield buf.subarray(pos, Math.min(buf.length, pos + size));
    pos += size;
  }
}

/** Mostly small chunks around the 512-byte block size, sometimes large ones. */
function randomSize(next: () => number): number {
  const r = next();
  if (r < 0.1) return 1 + Math.floor(next() * 8);
  if (r < 0.9) return 1 + Math.floor(next() * 1500);
  return 1 + Math.floor(next() * 70_000);
}

/** A small seeded PRNG (mulberry32): same seed, same chunking. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
