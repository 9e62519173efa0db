/**
 * What `du` counts for one inode on the filesystems VFS storage usually sits on (ext4, XFS with
 * 4 KiB blocks): allocated blocks, not apparent sizes. The constants were measured on ext4 with
 * tar-extracted trees (docs/vfs-cost.md has the numbers and the expected error).
 */

/** Allocation unit of ext4 and XFS as created by default: every file's data is rounded up to it. */
export const BLOCK_SIZE = 4096;

/**
 * ext4 keeps a symlink target shorter than 60 bytes inside the inode ("fast symlink", 0 blocks);
 * a longer one takes a data block. XFS inlines even longer targets, so this errs high there.
 */
const FAST_SYMLINK_MAX = 59;

/** Bytes of "." and ".." in a directory's first block. */
const DOT_ENTRIES = 24;

/**
 * A directory of more than one block is an htree whose leaf blocks split in half when full; with
 * names arriving in random hash order (a tar, or a copy walking names in sorted order) leaves sit
 * ~71% full. Measured: 1,000 names of 24 bytes → 13 blocks, 10,000 → 109 blocks.
 */
const DIR_BYTES_PER_BLOCK = 2900;

/** Allocated bytes of a regular file of `size` bytes (0 for an empty file). */
export function fileAllocated(size: number): number {
  return Math.ceil(size / BLOCK_SIZE) * BLOCK_SIZE;
}

/** Allocated bytes of a symlink whose target is `targetLength` bytes. */
export function symlinkAllocated(targetLength: number): number {
  return targetLength > FAST_SYMLINK_MAX ? BLOCK_SIZE : 0;
}

/** The ext4 directory-entry bytes one name takes: 8 bytes of header plus the name, 4-aligned. */
export function direntBytes(nameLength: number): number {
  return (8 + nameLength + 3) & ~3;
}

/** Allocated bytes of a directory whose entries (see direntBytes) add up to `entryBytes`. */
export function dirAllocated(entryBytes: number): number {
  const total = DOT_ENTRIES + entryBytes;
  if (total <= BLOCK_SIZE) return BLOCK_SIZE;
  return Math.ceil(total / DIR_BYTES_PER_BLOCK) * BLOCK_SIZE;
}
