/**
 * The OCI whiteout naming rules (image-spec layer.md), as pure functions over entry paths.
 * A whiteout is recognised by its base name alone, and acts on a path — never through a symlink.
 */
import { LayerflatError } from '../errors.js';
import { displayPath } from '../tar/entry.js';

/** Why a lower layer's entry is not in the merged filesystem. */
export type HiddenReason = 'overwritten' | 'whited-out' | 'opaque' | 'replaced';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
/** AUFS metadata (".wh..wh.plnk", ".wh..wh.aufs"): Docker skips these, and so do we. */
const AUFS_META_PREFIX = '.wh..wh.';

/** What an entry's name says about it. `target` is the path it acts on. */
export type WhiteoutKind =
  | { kind: 'none' }
  | { kind: 'whiteout'; target: string } // remove `target` and its subtree in lower layers
  | { kind: 'opaque'; dir: string } // hide all lower-layer children of `dir`
  | { kind: 'aufs-meta' }; // storage metadata with no effect on the filesystem

/** Split a normalised path into its parent ("" for top level) and base name. */
export function splitPath(path: string): { parent: string; base: string } {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? { parent: '', base: path } : { parent: path.slice(0, slash), base: path.slice(slash + 1) };
}

/** Join a parent ("" = root) and a name. */
export function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

/**
 * Classify a path by its base name. Throws BAD_PATH for a bare ".wh." (it names nothing), so a
 * malformed layer fails loudly instead of deleting something by accident.
 */
export function classifyWhiteout(path: string): WhiteoutKind {
  const { parent, base } = splitPath(path);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir: parent };
  if (base.startsWith(AUFS_META_PREFIX)) return { kind: 'aufs-meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') {
    throw new LayerflatError('BAD_PATH', `invalid whiteout "${displayPath(path)}" names nothing`);
  }
  return { kind: 'whiteout', target: joinPath(parent, name) };
}

/** Both engines refuse a layer that holds one path twice ("duplicates of file paths not supported"). */
export function duplicate(path: string): LayerflatError {
  const why = 'docker and podman refuse such a layer ("duplicates of file paths not supported")';
  return new LayerflatError('BAD_TAR', `the layer holds "${displayPath(path)}" twice; ${why}`);
}

/** A hardlink to a path that is no file when its layer is applied: the engines refuse the layer. */
export function missingTarget(path: string, target: string): LayerflatError {
  return new LayerflatError('BAD_TAR', `hardlink "${displayPath(path)}" → missing "${displayPath(target)}"`);
}

/**
 * A name the engines cannot apply: a parent that is a file, a dangling symlink, a symlink loop.
 * Both refuse the layer ("not a directory", "no such file or directory").
 */
export function unreachable(path: string, why: string): LayerflatError {
  return new LayerflatError('BAD_TAR', `"${displayPath(path)}": ${why}; docker and podman refuse such a layer`);
}

/** The parent of a path ("" for a top-level name), or undefined for the root itself. */
export function parentOf(path: string): string | undefined {
  if (path === '') return undefined;
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * Overlay storage keeps opaque dirs and redirects as `trusted.overlay.*` (rootless:
 * `user.overlay.*`) xattrs; they are artefacts of one host's storage and must not leak into a layer.
 */
export function isStorageArtefactXattr(key: string): boolean {
  return key.startsWith('trusted.overlay.') || key.startsWith('user.overlay.');
}
