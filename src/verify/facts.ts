/**
 * What verify compares for each path: the facts an engine's filesystem shows. Content is a
 * sha256, so a view of a 4 GB image holds hashes, never file data.
 */
import type { TarEntry } from '../tar/entry.js';

export interface FileFacts {
  type: string; // file, dir, symlink, chardev, blockdev, fifo (a hardlink shows its target's type)
  mode: number;
  uid: number;
  gid: number;
  /**
   * Whole seconds (engines' exports do not all keep fractions); undefined when the engine stamps
   * the time it loads the layer instead (a directory a layer changed without an entry of its own).
   */
  mtime?: number;
  size: number;
  sha256?: string;
  linkname?: string; // symlink target
  device?: string; // "major:minor" for device nodes
  xattrs: Record<string, string>; // name → hex value
}

/** Facts of an entry whose data hashed to `sha256` (undefined for entries without data). */
export function factsOf(entry: TarEntry, sha256: string | undefined): FileFacts {
  const facts: FileFacts = {
    type: entry.type,
    // A symlink's own mode is not kept by any filesystem an engine writes: it is always 0777.
    mode: entry.type === 'symlink' ? 0o777 : entry.mode & 0o7777,
    uid: entry.uid,
    gid: entry.gid,
    mtime: Math.floor(entry.mtime),
    size: entry.type === 'file' ? entry.size : 0,
    xattrs: {},
  };
  if (entry.type === 'file') facts.sha256 = sha256;
  if (entry.type === 'symlink') facts.linkname = entry.linkname;
  if (entry.type === 'chardev' || entry.type === 'blockdev') facts.device = `${entry.devmajor}:${entry.devminor}`;
  for (const [k, v] of [...entry.xattrs].sort(([a], [b]) => (a < b ? -1 : 1))) facts.xattrs[k] = v.toString('hex');
  return facts;
}
