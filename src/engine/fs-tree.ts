/**
 * A filesystem built the way an engine builds it: layers applied bottom-up, one entry at a time,
 * onto an in-memory tree. This is the reference the flat image is checked against — written
 * independently of the top-down merge planner, so each checks the other — and, through an
 * observer, the model inspect measures (it needs every removal as it happens).
 *
 * Nodes remember which layer last wrote them; that is how a layer's whiteouts (applied when
 * the layer ends) delete only what lower layers made, wherever the marker stood in the tar.
 */
import type { EntryType } from '../tar/entry.js';
import { classifyWhiteout, duplicate, missingTarget, splitPath, type HiddenReason } from './whiteout.js';

export interface FsNode<T> {
  isDir: boolean;
  /** The entry's value; undefined for a directory made implicitly as a parent. */
  value?: T;
  /** The layer that created or last rewrote this node. */
  layer: number;
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
export interface FsTreeObserver<T> {
  /** `node` (new, without children) was put under `parent` as `name`. */
  linked(parent: FsNode<T>, name: string, node: FsNode<T>): void;
  /** `name` was taken out of `parent`. */
  unlinked(parent: FsNode<T>, name: string): void;
  /** `node` left the tree. */
  released(node: FsNode<T>, reason: HiddenReason): void;
}

export class FsTree<T> {
  readonly root: FsNode<T> = { isDir: true, layer: -1, children: new Map() };
  private pending: { kind: 'whiteout' | 'opaque'; path: string }[] = [];
  private layer = -1;
  private removed = 0;
  /** The names the current layer's entries were stored under (duplicates are refused). */
  private readonly inLayer = new Set<string>();
  /** Bumped whenever a node leaves the tree, which may detach `lastDir`. */
  private generation = 0;
  private lastDir: { path: string; node: FsNode<T>; generation: number } | undefined;

  private readonly observer: FsTreeObserver<T> | undefined;
  private readonly onLink: ((file: T, link: T) => void) | undefined;

  /**
   * `observer` is told of every change to the tree's shape; `onLink(file, link)` of every hardlink
   * entry, whose header the engines apply to the file it names (owner, mode, mtime, xattrs added).
   */
  constructor(options: { observer?: FsTreeObserver<T>; onLink?: (file: T, link: T) => void } = {}) {
    this.observer = options.observer;
    this.onLink = options.onLink;
  }

  /** Start applying layer `index` (layers must come bottom-up). */
  startLayer(index: number): void {
    this.layer = index;
    this.pending = [];
    this.inLayer.clear();
  }

  /** Apply one entry. A hardlink stores its target's value (the same object: one file). */
  apply(entry: ApplyEntry<T>): Applied {
    const wh = classifyWhiteout(entry.path);
    if (wh.kind === 'whiteout') return (this.pending.push({ kind: 'whiteout', path: wh.target }), 'whiteout');
    if (wh.kind === 'opaque') return (this.pending.push({ kind: 'opaque', path: wh.dir }), 'opaque');
    if (wh.kind === 'aufs-meta') return 'ignored';
    const key = entry.rooted ? `/${entry.path}` : entry.path;
    if (this.inLayer.has(key)) throw duplicate(entry.path);
    this.inLayer.add(key);
    let value = entry.value;
    if (entry.type === 'hardlink') {
      const target = this.lookup(entry.linkname);
      if (!target || target.isDir || target.value === undefined) throw missingTarget(entry.path, entry.linkname);
      this.onLink?.(target.value, entry.value);
      value = target.value;
    }
    return this.put(entry.path, entry.type === 'dir', value);
  }

  /**
   * Finish the layer: its whiteouts and opaque markers now act on what lower layers made.
   * Returns how many paths they removed.
   */
  endLayer(): number {
    this.removed = 0;
    for (const w of this.pending) {
      const node = this.lookup(w.path);
      if (!node) continue;
      if (w.kind === 'opaque') this.purgeLower(node, 'opaque');
      else if (this.dropLower(node, 'whited-out')) {
        const { parent, base } = splitPath(w.path);
        this.unlink(this.lookup(parent)!, base);
        this.release(node, 'whited-out');
        this.removed++;
      }
    }
    this.pending = [];
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

  private put(path: string, isDir: boolean, value: T): Applied {
    if (path === '') {
      this.root.value = value;
      this.root.layer = this.layer;
      return this.layer > 0 ? 'changed' : 'added';
    }
    const { parent: parentPath, base } = splitPath(path);
    const parent = this.directory(parentPath);
    const old = parent.children!.get(base);
    const applied = old !== undefined && old.layer < this.layer ? 'changed' : 'added';
    if (old && ((old.isDir && isDir) || (!old.isDir && !isDir && value !== undefined && old.value === value))) {
      // A directory over a directory merges, the upper metadata winning; a name linked again to
      // the file it already is changes nothing but the layer.
      if (isDir) old.value = value;
      old.layer = this.layer;
      return applied;
    }
    if (old) this.detach(parent, base, old, 'overwritten');
    const node: FsNode<T> = { isDir, value, layer: this.layer, children: isDir ? new Map() : undefined };
    this.link(parent, base, node);
    if (isDir) this.lastDir = { path, node, generation: this.generation };
    return applied;
  }

  /**
   * The directory at `path`, made (or made to replace non-directories) where needed. Entries come
   * parents first, so the last directory asked for is usually the parent of the next entry: it is
   * remembered while nothing has been taken out of the tree.
   */
  private directory(path: string): FsNode<T> {
    if (path === '') return this.root;
    const cached = this.lastDir?.generation === this.generation ? this.lastDir : undefined;
    if (cached?.path === path) return cached.node;
    // Start below the remembered directory when the path lies under it (a deep nest, entry by entry).
    const under = cached !== undefined && path.startsWith(cached.path) && path.charCodeAt(cached.path.length) === 0x2f;
    let node = under ? cached.node : this.root;
    const rest = under ? path.slice(cached.path.length + 1) : path;
    for (const name of rest.split('/')) node = this.dirChild(node, name);
    this.lastDir = { path, node, generation: this.generation };
    return node;
  }

  /** The directory `name` under `parent`, made (or made to replace a non-directory) if needed. */
  private dirChild(parent: FsNode<T>, name: string): FsNode<T> {
    const existing = parent.children!.get(name);
    if (existing?.isDir) return existing;
    if (existing) this.detach(parent, name, existing, 'replaced');
    const dir: FsNode<T> = { isDir: true, layer: this.layer, children: new Map() };
    this.link(parent, name, dir);
    return dir;
  }

  /** Delete everything under `node` that lower layers made; keep what this layer wrote. */
  private purgeLower(node: FsNode<T>, reason: HiddenReason): void {
    if (!node.children) return;
    for (const [name, child] of node.children) {
      if (!this.dropLower(child, reason)) continue;
      this.unlink(node, name);
      this.release(child, reason);
      this.removed++;
    }
  }

  /**
   * Whether `node` goes entirely. A lower node that holds entries of this layer stays as a bare
   * directory (its own entry was deleted; this layer's entries below it made it again).
   */
  private dropLower(node: FsNode<T>, reason: HiddenReason): boolean {
    this.purgeLower(node, reason);
    if (node.layer === this.layer) return false;
    if (node.children && node.children.size > 0) {
      node.value = undefined;
      return false;
    }
    return true;
  }

  /** Take `node` out with all below it: the node for `reason`, what lay below it as replaced. */
  private detach(parent: FsNode<T>, name: string, node: FsNode<T>, reason: HiddenReason): void {
    this.unlink(parent, name);
    if (!this.observer) return;
    const release = (n: FsNode<T>, why: HiddenReason): void => {
      for (const child of n.children?.values() ?? []) release(child, 'replaced');
      this.release(n, why);
    };
    release(node, reason);
  }

  private link(parent: FsNode<T>, name: string, node: FsNode<T>): void {
    parent.children!.set(name, node);
    this.observer?.linked(parent, name, node);
  }

  private unlink(parent: FsNode<T>, name: string): void {
    this.generation++;
    parent.children!.delete(name);
    this.observer?.unlinked(parent, name);
  }

  private release(node: FsNode<T>, reason: HiddenReason): void {
    this.observer?.released(node, reason);
  }
}
