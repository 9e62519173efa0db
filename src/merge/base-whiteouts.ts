/**
 * With --keep-base, the squashed layer sits on the kept base layers, so it must still delete
 * what the squashed layers deleted from the base — and nothing else: a whiteout dropped here
 * resurrects deleted files (a secrets leak), one too many is noise. Pure: two PathStates in,
 * marker paths out.
 */
import { EMITTED, EMITTED_BELOW, EMITTED_DIR, IMPLIED, OPAQUE, PathState, SEALED } from './path-state.js';
import { joinPath, OPAQUE_MARKER, parentOf, splitPath, WHITEOUT_PREFIX } from '../engine/whiteout.js';

/** An entry the squashed layer needs on top of its merged entries. */
export interface BaseMarker {
  path: string;
  /** 'whiteout': an empty file named .wh.* / .wh..wh..opq; 'dir': a plain directory entry. */
  type: 'whiteout' | 'dir';
}

/**
 * The whiteouts and opaque markers the squashed layer needs, sorted by path. `squashed` is the
 * planner state after the squashed layers; `base` is the state of a merge of the base layers.
 */
export function whiteoutsForBase(squashed: PathState, base: PathState): BaseMarker[] {
  const covered = new Set<string>();
  const out = new Map<string, BaseMarker>();
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
  for (const path of squashed.pathsWith(SEALED | OPAQUE | IMPLIED)) {
    if (isUnder(path)) continue;
    const flags = squashed.get(path);
    if (!(flags & SEALED) && implicitDirOverBaseFile(flags, base.get(path))) out.set(path, { path, type: 'dir' });
    if (!(flags & (SEALED | OPAQUE))) continue;
    covered.add(path);
    const marker = markerFor(path, flags, base.get(path));
    if (marker !== undefined) out.set(marker, { path: marker, type: 'whiteout' });
    if (replacedByImplicitDir(flags, base.get(path))) out.set(path, { path, type: 'dir' });
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A base entry that the squashed layers replaced, and then wrote below without a directory
 * entry of their own: the base entry must go, yet the path stays a directory. A whiteout would
 * also remove the new entries below it (Docker applies whiteouts in tar order), so a plain
 * directory entry replaces it instead — what an engine's implicit parent would be.
 */
function replacedByImplicitDir(squashedFlags: number, baseFlags: number): boolean {
  return (
    (squashedFlags & SEALED) !== 0 &&
    !(squashedFlags & EMITTED) &&
    (squashedFlags & EMITTED_BELOW) !== 0 &&
    (baseFlags & EMITTED) !== 0
  );
}

/** The squashed layers wrote below a base non-directory without a directory entry of their own. */
function implicitDirOverBaseFile(squashedFlags: number, baseFlags: number): boolean {
  const implicit = (squashedFlags & IMPLIED) !== 0 && !(squashedFlags & EMITTED);
  return implicit && (baseFlags & EMITTED) !== 0 && !(baseFlags & EMITTED_DIR);
}

function markerFor(path: string, squashedFlags: number, baseFlags: number): string | undefined {
  const baseHas = (baseFlags & (EMITTED | EMITTED_BELOW)) !== 0;
  const baseHasChildren = (baseFlags & EMITTED_BELOW) !== 0;
  const opaque = joinPath(path, OPAQUE_MARKER);
  if (!(squashedFlags & SEALED)) return baseHasChildren ? opaque : undefined; // opaque only
  if (!baseHas) return undefined;
  const squashedHas = (squashedFlags & (EMITTED | EMITTED_BELOW)) !== 0;
  if (!squashedHas) {
    const { parent, base } = splitPath(path);
    return joinPath(parent, WHITEOUT_PREFIX + base);
  }
  // A new non-directory replaces the base path by itself; a new directory merges, so the base's
  // children need an opaque marker to stay deleted.
  const squashedDir = (squashedFlags & EMITTED_DIR) !== 0 || !(squashedFlags & EMITTED);
  return squashedDir && baseHasChildren ? opaque : undefined;
}
