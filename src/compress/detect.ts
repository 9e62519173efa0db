/**
 * Compression detection by magic bytes. Readers trust the bytes, not media types: a
 * docker-archive has none, and registries have been known to mislabel layers.
 */
import type { Compression } from '../image/types.js';

/** How many leading bytes `detectCompression` looks at; give it at least this many if there are. */
export const MAGIC_LENGTH = 4;

/**
 * Detect by magic bytes: gzip `1f 8b`; zstd frame `28 b5 2f fd`, or a zstd skippable frame
 * (`5? 2a 4d 18`, little-endian 0x184D2A50..0x184D2A5F), which zstd streams may start with;
 * anything else (including fewer bytes than a magic) is 'none'.
 */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4) {
    if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
    if ((head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  }
  return 'none';
}
