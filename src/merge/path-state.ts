/**
 * What the layers above the current one did to each path, as bit flags in one flat map.
 * The merge walks layers top-down, so "above" is everything already seen; a lower-layer entry is
 * visible only if nothing recorded here hides it. Memory grows with the number of paths only.
 */
import { parentOf, type HiddenReason } from '../engine/whiteout.js';

export const PRESENT = 1; // some upper layer has an entry at exactly this path
export const SEALED = 2; // lower entries at this path and below are gone (whiteout, or non-dir replaced it)
export const OPAQUE = 4; // lower children of this directory are gone; the directory itself is not
export const IMPLIED = 8; // an upper entry lies below this path, so it was a directory there
export const EMITTED_BELOW = 64; // an entry below this path was written to the output
export const EMITTED = 16; // an entry at this path was written to the output
export const EMITTED_DIR = 32; // ... and that entry is a directory
export const IN_LAYER = 128; // the current layer has an entry at this path (cleared when it ends)
export const IN_LAYER_ROOTED = 256; // ... stored under an absolute name, which engines tell apart
export const IN_LAYER_BELOW = 512; // the current layer has an entry below this path (cleared when it ends)

export class PathState {
  private readonly flags = new Map<string, number>();
  /**
   * What hides the entries below each directory asked about, while the state does not change
   * (it changes only when a layer ends, which clears this): each directory is worked out once
   * from its parent's answer, so a path 10,000 levels deep costs one lookup, not 10,000.
   */
  private readonly below = new Map<string, HiddenReason | null>();

  get(path: string): number {
    return this.flags.get(path) ?? 0;
  }

  set(path: string, bits: number): void {
    this.flags.set(path, this.get(path) | bits);
    this.below.clear();
  }

  /**
   * Note the current layer's entry at `path` (`bit` IN_LAYER or IN_LAYER_ROOTED); false when it
   * has one there already. These bits never change what hides what, so the memo stays.
   */
  noteInLayer(path: string, bit: number): boolean {
    const f = this.get(path);
    if (f & bit) return false;
    this.flags.set(path, f | bit);
    return true;
  }

  /** Forget `bits` of `path` (a layer's IN_LAYER notes, when it ends). */
  forget(path: string, bits: number): void {
    const f = this.get(path);
    if (f & bits) this.flags.set(path, f & ~bits);
  }

  /**
   * Set `bit` on every strict ancestor of `path`, stopping at the first one that has it; the
   * paths newly marked are added to `marked` when given. Call `set` before relying on the memo
   * of `hiddenBy` if `bit` changes what hides what.
   */
  markAncestors(path: string, bit: number, marked?: string[]): void {
    for (let a = parentOf(path); a !== undefined; a = parentOf(a)) {
      const f = this.get(a);
      if (f & bit) return;
      this.flags.set(a, f | bit);
      marked?.push(a);
    }
  }

  /**
   * Whether an entry at `path` from a lower layer is hidden by what the upper layers did,
   * and why. `isDir` matters because a kept upper entry below `path` made it a directory.
   */
  hiddenBy(path: string, isDir: boolean): HiddenReason | undefined {
    const parent = parentOf(path);
    const above = parent === undefined ? undefined : this.hidesBelow(parent);
    if (above) return above;
    const f = this.get(path);
    if (f & PRESENT) return 'overwritten';
    if (f & SEALED) return 'whited-out';
    if (f & IMPLIED && !isDir) return 'replaced';
    return undefined;
  }

  /**
   * Whether the upper layers made `path` a directory (an entry at it, or below it) and left
   * what lower layers have below it visible: no whiteout, no non-directory, no opaque marker.
   */
  reopened(path: string): boolean {
    const parent = parentOf(path);
    if (parent !== undefined && this.hidesBelow(parent)) return false;
    const f = this.get(path);
    return (f & (PRESENT | IMPLIED)) !== 0 && (f & (SEALED | OPAQUE)) === 0;
  }

  /** What hides everything below `dir`: it or, first, one of its ancestors (root first). */
  private hidesBelow(dir: string): HiddenReason | undefined {
    const chain: string[] = [];
    let known: HiddenReason | null | undefined;
    for (let d: string | undefined = dir; d !== undefined; d = parentOf(d)) {
      known = this.below.get(d);
      if (known !== undefined) break;
      chain.push(d);
    }
    let result = known ?? null;
    for (let i = chain.length - 1; i >= 0; i--) {
      if (result === null) {
        const f = this.get(chain[i]!);
        if (f & SEALED) result = f & PRESENT ? 'replaced' : 'whited-out';
        else if (f & OPAQUE) result = 'opaque';
      }
      this.below.set(chain[i]!, result);
    }
    return result ?? undefined;
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
