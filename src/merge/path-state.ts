/**
 * What the layers above the current one did to each path, as bit flags in one flat map.
 * The merge walks layers top-down, so "above" is everything already seen; a lower-layer entry is
 * visible only if nothing recorded here hides it. Memory grows with the number of paths only.
 */
import type { HiddenReason } from '../engine/whiteout.js';
import { ancestorsOf } from '../engine/whiteout.js';

export const PRESENT = 1; // some upper layer has an entry at exactly this path
export const SEALED = 2; // lower entries at this path and below are gone (whiteout, or non-dir replaced it)
export const OPAQUE = 4; // lower children of this directory are gone; the directory itself is not
export const IMPLIED = 8; // an upper entry lies below this path, so it was a directory there
export const EMITTED_BELOW = 64; // an entry below this path was written to the output
export const EMITTED = 16; // an entry at this path was written to the output
export const EMITTED_DIR = 32; // ... and that entry is a directory

export class PathState {
  private readonly flags = new Map<string, number>();

  get(path: string): number {
    return this.flags.get(path) ?? 0;
  }

  set(path: string, bits: number): void {
    this.flags.set(path, this.get(path) | bits);
  }

  /** Set `bit` on every strict ancestor of `path`, stopping at the first one that has it. */
  markAncestors(path: string, bit: number): void {
    const ancestors = ancestorsOf(path);
    for (let i = ancestors.length - 1; i >= 0; i--) {
      const a = ancestors[i]!;
      const f = this.get(a);
      if (f & bit) return;
      this.flags.set(a, f | bit);
    }
  }

  /**
   * Whether an entry at `path` from a lower layer is hidden by what the upper layers did,
   * and why. `isDir` matters because a kept upper entry below `path` made it a directory.
   */
  hiddenBy(path: string, isDir: boolean): HiddenReason | undefined {
    for (const a of ancestorsOf(path)) {
      const f = this.get(a);
      if (f & SEALED) return f & PRESENT ? 'replaced' : 'whited-out';
      if (f & OPAQUE) return 'opaque';
    }
    const f = this.get(path);
    if (f & PRESENT) return 'overwritten';
    if (f & SEALED) return 'whited-out';
    if (f & IMPLIED && !isDir) return 'replaced';
    return undefined;
  }

  /** Paths with any of `bits` set, in sorted order (for the keep-base whiteout pass). */
  pathsWith(bits: number): string[] {
    const out: string[] = [];
    for (const [p, f] of this.flags) if (f & bits) out.push(p);
    return out.sort();
  }

  get size(): number {
    return this.flags.size;
  }
}
