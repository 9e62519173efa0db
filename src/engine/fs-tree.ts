/**
 * A filesystem built the way docker and podman build one (docs/engine-rules.md): layers applied
 * bottom-up, the entries of a layer one at a time in tar order, each on the result of those before
 * it, onto an in-memory tree. It is the reference the flat image is checked against — written
 * independently of the top-down merge planner, so each checks the other — the model inspect
 * measures (through an observer), and the exact plan's source (engine/model.ts).
 *
 * The rules, each as both engines apply them:
 * - a name's parent is resolved through the symlinks there at that moment, as in a chroot
 *   (absolute targets and ".." stay inside the root); a missing parent is made; a parent that is
 *   a file, a dangling symlink or a symlink loop makes the engines refuse the layer;
 * - the last component is never followed: an entry replaces what is there unless both are
 *   directories (which merge, the upper metadata winning);
 * - `.wh.NAME` removes what is at NAME now, this layer's own earlier entries included;
 *   `DIR/.wh..wh..opq` removes everything under DIR that is not the name of an entry this layer
 *   read before the marker; in a symlinked DIR it does nothing;
 * - a hardlink's header sets the file's metadata (`onLink`); its target is resolved like a
 *   parent and must be a file;
 * - a directory whose children a layer changed without an entry of its own in that layer shows
 *   the time the engine loaded the layer (`onStamped`).
 */
import type { EntryType } from '../tar/entry.js';
import {
  classifyWhiteout,
  duplicate,
  joinPath,
  missingTarget,
  splitPath,
  unreachable,
  type HiddenReason,
} from './whiteout.js';

export interface FsNode<T> {
  isDir: boolean;
  /** The entry's value; undefined for a directory made implicitly as a parent. */
  value?: T;
  /** The layer that created or last rewrote this node. */
  layer: number;
  /** A symlink's target (followed when the node is a parent of a later name). */
  symlink?: string;
  children?: Map<string, FsNode<T>>;
}

/** What applying one entry needs: its path, type, hardlink target and the value to store. */
export interface ApplyEntry<T> {
  path: string;
  type: EntryType;
  linkname: string;
  value: T;
  /** The stored name was absolute (engines tell "/a" from "a" when they look for duplicates). */
  rooted?: boolean;
}

/** What applying an entry did: a new path, one a lower layer had, a marker, nothing. */
export type Applied = 'added' | 'changed' | 'whiteout' | 'opaque' | 'ignored';

/**
 * Told of every change to the tree's shape (e.g. to keep running totals). A node that leaves
 * is first unlinked from its parent, then released — below it, its descendants are released
 * first, each for the reason that removed it.
 */
interface FsTreeObserver<T> {
  /** `node` (new, without children) was put under `parent` as `name`. */
  linked(parent: FsNode<T>, name: string, node: FsNode<T>): void;
  /** `name` was taken out of `parent`. */
  unlinked(parent: FsNode<T>, name: string): void;
  /** `node` left the tree. */
  released(node: FsNode<T>, reason: HiddenReason): void;
}

export interface FsTreeOptions<T> {
  observer?: FsTreeObserver<T>;
  /** A hardlink entry's header applies to the file it names (owner, mode, mtime, xattrs added). */
  onLink?: (file: T, link: T) => void;
  /** A directory the layer changed without an entry of its own: its mtime is the load time. */
  onStamped?: (dir: FsNode<T>) => void;
}

/** Where a name landed: its parent directory (resolved) and its own name there. */
export interface Placed<T> {
  parent: FsNode<T>;
  /** The path of `parent` once resolved ("" for the root). */
  parentPath: string;
  base: string;
}

/** A symlink whose target is not there (ENOENT): engines refuse an entry below it. */
class Dangling extends Error {
  constructor(readonly path: string) {
    super(`"${path}": no such directory`);
  }
}

/** Most symlinks followed for one name, as Linux allows (ELOOP beyond). */
const MAX_SYMLINKS = 40;

export class FsTree<T> {
  readonly root: FsNode<T> = { isDir: true, layer: -1, children: new Map() };
  private layer = -1;
  private removed = 0;
  /** The names the current layer's entries were stored under: duplicates are refused ("/a" is not "a"). */
  private readonly names = new Set<string>();
  /** The same names as paths (what an opaque marker keeps; engines join "/a" and "a" to one path). */
  private readonly inLayer = new Set<string>();
  /** Directories the current layer changed, and those it has an entry for. */
  private readonly changedDirs = new Set<FsNode<T>>();
  private readonly entryDirs = new Set<FsNode<T>>();
  /** Bumped whenever a node leaves the tree, which may detach `lastDir`. */
  private generation = 0;
  /** The last directory resolved: `path` as named, `resolved` where it is (no symlinks in it). */
  private lastDir: { path: string; resolved: string; node: FsNode<T>; generation: number } | undefined;

  constructor(private readonly options: FsTreeOptions<T> = {}) {}

  /** Start applying layer `index` (layers must come bottom-up). */
  startLayer(index: number): void {
    this.layer = index;
    this.removed = 0;
    this.names.clear();
    this.inLayer.clear();
    this.changedDirs.clear();
    this.entryDirs.clear();
  }

  /** Apply one entry (its path and link target already cleaned). Returns what it did; `placed` where. */
  apply(entry: ApplyEntry<T>, placed?: (p: Placed<T>) => void): Applied {
    const wh = classifyWhiteout(entry.path);
    if (wh.kind === 'aufs-meta') return 'ignored';
    const { parent: rawParent, base } = splitPath(entry.path);
    if (wh.kind === 'opaque') {
      const dir = this.opaque(rawParent);
      if (dir) placed?.({ parent: dir.node, parentPath: dir.path, base });
      return 'opaque';
    }
    const at = this.resolveDir(rawParent, true, wh.kind === 'whiteout');
    if (!at) return 'whiteout'; // under a dangling symlink: nothing there to remove
    placed?.({ parent: at.node, parentPath: at.path, base });
    if (wh.kind === 'whiteout') {
      this.whiteout(at.node, splitPath(wh.target).base);
      return 'whiteout';
    }
    const key = entry.rooted ? `/${entry.path}` : entry.path;
    if (this.names.has(key)) throw duplicate(entry.path);
    this.names.add(key);
    this.inLayer.add(entry.path);
    if (entry.path === '') return this.setRoot(entry);
    let value = entry.value;
    if (entry.type === 'hardlink') {
      const target = this.resolveName(entry.linkname);
      if (!target || target.isDir || target.value === undefined) throw missingTarget(entry.path, entry.linkname);
      // Engines remove what is at the link's name (RemoveAll), then link: a target below it is gone by then.
      if (this.resolvedPath(entry.linkname)?.startsWith(`${joinPath(at.path, base)}/`)) {
        throw missingTarget(entry.path, entry.linkname);
      }
      this.options.onLink?.(target.value, entry.value);
      value = target.value;
    }
    return this.put(at.node, at.path, base, entry.type, value, entry.linkname);
  }

  /** End the current layer. Returns how many paths (whole subtrees) its whiteouts and opaque markers removed. */
  endLayer(): number {
    for (const dir of this.changedDirs) if (!this.entryDirs.has(dir)) this.options.onStamped?.(dir);
    return this.removed;
  }

  /** The node at `path`, without following symlinks. */
  lookup(path: string): FsNode<T> | undefined {
    let node: FsNode<T> | undefined = this.root;
    if (path === '') return node;
    for (const name of path.split('/')) {
      node = node?.children?.get(name);
      if (!node) return undefined;
    }
    return node;
  }

  /**
   * Every node, parents before children, with its path; children in byte order. Iterative, so a
   * path 10,000 levels deep neither overflows the stack nor costs a generator per level.
   */
  *walk(node: FsNode<T> = this.root, path = ''): Generator<[string, FsNode<T>]> {
    const stack: [string, FsNode<T>][] = [[path, node]];
    while (stack.length > 0) {
      const [p, n] = stack.pop()!;
      yield [p, n];
      if (!n.children) continue;
      const names = [...n.children.keys()].sort();
      for (let i = names.length - 1; i >= 0; i--) {
        stack.push([p === '' ? names[i]! : `${p}/${names[i]}`, n.children.get(names[i]!)!]);
      }
    }
  }

  private setRoot(entry: ApplyEntry<T>): Applied {
    if (entry.type !== 'dir') throw unreachable('/', 'the root can only be a directory');
    this.root.value = entry.value;
    this.root.layer = this.layer;
    this.entryDirs.add(this.root);
    return this.layer > 0 ? 'changed' : 'added';
  }

  private put(
    parent: FsNode<T>,
    parentPath: string,
    base: string,
    type: EntryType,
    value: T,
    linkname: string,
  ): Applied {
    const isDir = type === 'dir';
    const old = parent.children!.get(base);
    const applied = old !== undefined && old.layer < this.layer ? 'changed' : 'added';
    if (old && ((old.isDir && isDir) || (!old.isDir && !isDir && old.value === value))) {
      // A directory over a directory merges, the upper metadata winning; a name linked again to
      // the file it already is changes nothing but the layer.
      if (isDir) {
        old.value = value;
        this.entryDirs.add(old);
      }
      old.layer = this.layer;
      return applied;
    }
    if (old) this.detach(parent, base, old, 'overwritten');
    const node: FsNode<T> = { isDir, value, layer: this.layer, children: isDir ? new Map() : undefined };
    if (type === 'symlink') node.symlink = linkname;
    this.link(parent, base, node);
    if (isDir) {
      this.entryDirs.add(node);
      const path = parentPath === '' ? base : `${parentPath}/${base}`;
      this.lastDir = { path, resolved: path, node, generation: this.generation };
    }
    return applied;
  }

  /** `.wh.NAME` in `dir`: what is at NAME now goes, with everything below it. */
  private whiteout(dir: FsNode<T>, name: string): void {
    const node = dir.children!.get(name);
    if (!node) return; // a whiteout of nothing is no error
    this.unlink(dir, name);
    this.removed += this.releaseAll(node, 'whited-out');
  }

  /**
   * `DIR/.wh..wh..opq`: every path under DIR goes but the names of entries this layer read before
   * the marker (named as the layer names them, through `rawDir`, not as resolved). In a symlinked
   * DIR, nothing goes.
   */
  private opaque(rawDir: string): { node: FsNode<T>; path: string } | undefined {
    // DIR's parents are made, and DIR when missing; DIR itself is not followed: a symlink or a
    // file there, and the marker does nothing.
    let dirNode = this.root;
    let dirPath = '';
    if (rawDir !== '') {
      const { parent, base } = splitPath(rawDir);
      const holder = this.resolveDir(parent, true)!;
      const found = holder.node.children!.get(base);
      if (found && !found.isDir) return undefined;
      dirNode = found ?? this.resolveDir(rawDir, true)!.node;
      dirPath = holder.path === '' ? base : `${holder.path}/${base}`;
    }
    const stack: [string, FsNode<T>][] = [[rawDir, dirNode]];
    while (stack.length > 0) {
      const [path, dir] = stack.pop()!;
      for (const [name, child] of [...dir.children!]) {
        const childPath = path === '' ? name : `${path}/${name}`;
        if (!this.inLayer.has(childPath)) {
          this.unlink(dir, name);
          this.removed += this.releaseAll(child, 'opaque');
        } else if (child.isDir) stack.push([childPath, child]);
      }
    }
    return { node: dirNode, path: dirPath };
  }

  /**
   * The directory at `path`, resolved through symlinks as in a chroot; missing components are
   * made when `make` (an entry's parent), else the resolution ends at the first missing one.
   * Throws BAD_TAR as the engines refuse: a component that is a file, a dangling symlink, a loop.
   */
  private resolveDir(
    path: string,
    make: boolean,
    danglingIsEmpty = false,
  ): { node: FsNode<T>; path: string } | undefined {
    if (path === '') return { node: this.root, path: '' };
    const cached = this.lastDir?.generation === this.generation ? this.lastDir : undefined;
    if (cached?.path === path) return { node: cached.node, path: cached.resolved };
    let out: { node: FsNode<T>; path: string };
    try {
      out = this.walkPath(path, make, { hops: 0 });
    } catch (err) {
      // RemoveAll through a dangling symlink finds nothing to remove: no error for a whiteout.
      if (!(err instanceof Dangling)) throw err;
      if (danglingIsEmpty) return undefined;
      throw unreachable(err.path, 'it lies under a symlink that points to nothing');
    }
    if (make) this.lastDir = { path, resolved: out.path, node: out.node, generation: this.generation };
    return out;
  }

  /** Walk `path` from the root (or from `from`), following symlinks; see resolveDir. */
  private walkPath(
    path: string,
    make: boolean,
    hops: { hops: number },
    from: { node: FsNode<T>; path: string } = { node: this.root, path: '' },
  ): { node: FsNode<T>; path: string } {
    let node = from.node;
    let at = from.path;
    for (const name of path.split('/')) {
      if (name === '' || name === '.') continue;
      if (name === '..') {
        // Physical "..": the parent of the directory the walk stands in (symlinks already
        // resolved, so `at` names real directories only); clamped at the root.
        at = splitPath(at).parent;
        node = this.lookup(at)!;
        continue;
      }
      const child = node.children!.get(name);
      const childPath = at === '' ? name : `${at}/${name}`;
      if (!child) {
        if (!make) throw new Dangling(childPath);
        const dir: FsNode<T> = { isDir: true, layer: this.layer, children: new Map() };
        this.link(node, name, dir);
        node = dir;
        at = childPath;
        continue;
      }
      if (child.isDir) {
        node = child;
        at = childPath;
        continue;
      }
      if (child.symlink === undefined) throw unreachable(childPath, 'not a directory');
      if (++hops.hops > MAX_SYMLINKS) throw unreachable(childPath, 'too many levels of symbolic links');
      // A symlink's target must exist, as a directory: engines never make a dangling one's target.
      const target = child.symlink.startsWith('/') ? { node: this.root, path: '' } : { node, path: at };
      const resolved = this.walkPath(child.symlink, false, hops, target);
      node = resolved.node;
      at = resolved.path;
    }
    return { node, path: at };
  }

  /** Where `path` lands now, its parent resolved through symlinks (undefined if it cannot be reached). */
  resolvedPath(path: string): string | undefined {
    const { parent, base } = splitPath(path);
    try {
      const dir = this.walkPath(parent, false, { hops: 0 }).path;
      return dir === '' ? base : `${dir}/${base}`;
    } catch {
      return undefined;
    }
  }

  /** The node a hardlink target names: its parent resolved (never made), its last component not followed. */
  private resolveName(path: string): FsNode<T> | undefined {
    const { parent, base } = splitPath(path);
    let dir: FsNode<T>;
    try {
      dir = this.walkPath(parent, false, { hops: 0 }).node;
    } catch {
      return undefined; // the target's directory is not there: a link to nothing
    }
    return dir.children!.get(base);
  }

  /** Take `node` out with all below it: the node for `reason`, what lay below it as replaced. */
  private detach(parent: FsNode<T>, name: string, node: FsNode<T>, reason: HiddenReason): void {
    this.unlink(parent, name);
    this.releaseAll(node, reason);
  }

  /** Release `node` and everything below it (below: each as `replaced`, unless a marker removed them). */
  private releaseAll(node: FsNode<T>, reason: HiddenReason): number {
    const below: HiddenReason = reason === 'overwritten' ? 'replaced' : reason;
    const stack: [FsNode<T>, HiddenReason, boolean][] = [[node, reason, false]];
    let count = 0;
    while (stack.length > 0) {
      const [n, why, expanded] = stack.pop()!;
      if (expanded || !n.children || n.children.size === 0) {
        this.options.observer?.released(n, why);
        count++;
        continue;
      }
      stack.push([n, why, true]);
      for (const child of n.children.values()) stack.push([child, below, false]);
    }
    return count;
  }

  private link(parent: FsNode<T>, name: string, node: FsNode<T>): void {
    parent.children!.set(name, node);
    this.changedDirs.add(parent);
    this.options.observer?.linked(parent, name, node);
  }

  private unlink(parent: FsNode<T>, name: string): void {
    this.generation++;
    parent.children!.delete(name);
    this.changedDirs.add(parent);
    this.options.observer?.unlinked(parent, name);
  }
}
