/**
 * With --keep-base, the squashed layer sits on the kept base layers, so it must still delete
 * what the squashed layers deleted from the base — and nothing else: a whiteout dropped here
 * resurrects deleted files (a secrets leak), one too many is noise. Pure: two PathStates in,
 * marker paths out.
 *
 * The markers open the squashed layer: engines apply a layer in tar order (docs/engine-rules.md
 * §7), so a marker first acts on the base alone, and every entry after it lands on the result —
 * a directory the squashed layers re-created after deleting it, or made where the base had a
 * file or a symlink, is made fresh rather than through what the base had there.
 */
import {
  BELOW_UNREPLACED,
  EMITTED,
  EMITTED_BELOW,
  EMITTED_DIR,
  MARKED_BELOW,
  OPAQUE,
  PathState,
  PRESENT,
  SEALED,
} from './path-state.js';
import { joinPath, OPAQUE_MARKER, parentOf, splitPath, WHITEOUT_PREFIX } from '../engine/whiteout.js';

/**
 * The whiteouts and opaque markers the squashed layer needs (paths, sorted). `squashed` is the
 * planner state after the squashed layers; `base` is the state of a merge of the base layers.
 */
export function whiteoutsForBase(squashed: PathState, base: PathState): string[] {
  const covered = new Set<string>();
  const out: string[] = [];
  // Paths come sorted, so after their ancestors: whether an ancestor is covered is worked out
  // once per directory from its parent's answer (a 10,000-level path costs one step, not 10,000).
  const under = new Map<string, boolean>();
  const isUnder = (path: string): boolean => {
    const chain: string[] = [];
    let known: boolean | undefined;
    for (let d = parentOf(path); d !== undefined; d = parentOf(d)) {
      known = under.get(d);
      if (known !== undefined) {
        known ||= covered.has(d);
        break;
      }
      chain.push(d);
    }
    let result = known ?? false;
    for (let i = chain.length - 1; i >= 0; i--) {
      under.set(chain[i]!, result);
      result ||= covered.has(chain[i]!);
    }
    return result;
  };
  for (const path of squashed.pathsWith(SEALED | OPAQUE | PRESENT)) {
    if (isUnder(path)) continue;
    const marker = markerFor(path, squashed.get(path), base.get(path));
    if (marker === undefined) continue;
    covered.add(path);
    out.push(marker);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The marker the squashed layer needs for `path`, if any. */
function markerFor(path: string, squashedFlags: number, baseFlags: number): string | undefined {
  if (!(baseFlags & (EMITTED | EMITTED_BELOW))) return undefined; // nothing of the base to delete
  const { parent, base } = splitPath(path);
  const whiteout = joinPath(parent, WHITEOUT_PREFIX + base);
  const squashedNonDir = (squashedFlags & EMITTED) !== 0 && !(squashedFlags & EMITTED_DIR);
  const baseNonDir = (baseFlags & EMITTED) !== 0 && !(baseFlags & EMITTED_DIR);
  // A non-directory of the squashed layer replaces whatever the base has there by itself.
  if (squashedNonDir) return undefined;
  // Deleted, or deleted and made a directory again: gone from the base first.
  if (squashedFlags & SEALED) return whiteout;
  // A base file or symlink the squashed layers made a directory: entries below it must not land on it.
  if (baseNonDir) return squashedFlags & EMITTED_DIR ? whiteout : undefined;
  if (squashedFlags & OPAQUE && baseFlags & EMITTED_BELOW) return joinPath(path, OPAQUE_MARKER);
  return undefined;
}

/**
 * A path the base holds as a file or symlink that the squashed layers wrote, deleted or linked
 * below: through a symlink the names land elsewhere, below a file the engines refuse the layer,
 * unless a squashed layer replaced it first — which layer did what when is the engines' model's
 * to tell (merge/exact.ts).
 */
export function belowBaseNonDir(squashed: PathState, base: PathState): string | undefined {
  for (const path of squashed.pathsWith(BELOW_UNREPLACED | MARKED_BELOW)) {
    const b = base.get(path);
    if (b & EMITTED && !(b & EMITTED_DIR)) return path;
  }
  return undefined;
}
