/**
 * The merged filesystem as an engine builds it — layers applied bottom-up, one entry at a time —
 * keeping per path only what costs disk: the layer that wrote it and its inode's sizes. Memory
 * grows with the number of paths, never with file sizes.
 *
 * It follows the rules of verify's FsTree (a test checks that both agree on random layers) but
 * is its own model, because inspect must see every removal as it happens: that is when a
 * file's bytes become "wasted", and by which layer.
 */
import { LayerflatError } from '../errors.js';
import type { HiddenReason } from '../merge/path-state.js';
import { classifyWhiteout, splitPath } from '../merge/whiteout.js';
import { displayPath, type EntryType } from '../tar/entry.js';
import { fileAllocated, symlinkAllocated } from './du.js';
import { Tally, type Inode, type Node, type TreeTotals } from './nodes.js';

export type { Inode, TreeTotals } from './nodes.js';

/** The entry metadata the model needs (a TarEntry has all of it). */
export interface CostEntry {
  path: string;
  type: EntryType;
  size: number;
  linkname: string;
}

/** What applying an entry did: a new path, one that existed in a lower layer, a marker, nothing. */
export type Applied = 'added' | 'changed' | 'whiteout' | 'opaque' | 'ignored';

/** Called when an inode loses its last name: its content is gone from the merged filesystem. */
export type GoneListener = (inode: Inode, byLayer: number, reason: HiddenReason) => void;

export class CostTree {
  private readonly tally = new Tally();
  private readonly root: Node = this.tally.newDir(-1);
  private layer = -1;
  private pending: { opaque: boolean; path: string }[] = [];
  private removed = 0;

  constructor(private readonly onGone: GoneListener = () => {}) {}

  /** The merged filesystem as it stands now. */
  get totals(): Readonly<TreeTotals> {
    return this.tally.totals;
  }

  /** Start applying layer `index` (layers must come bottom-up). */
  startLayer(index: number): void {
    this.layer = index;
    this.pending = [];
  }

  /** Apply one entry; whiteouts and opaque markers wait for endLayer. */
  apply(e: CostEntry, where: string): Applied {
    const wh = classifyWhiteout(e.path, where);
    if (wh.kind === 'whiteout') this.pending.push({ opaque: false, path: wh.target });
    if (wh.kind === 'opaque') this.pending.push({ opaque: true, path: wh.dir });
    if (wh.kind !== 'none') return wh.kind === 'aufs-meta' ? 'ignored' : wh.kind;
    if (e.type === 'dir') return this.put(e.path, undefined);
    return this.put(e.path, e.type === 'hardlink' ? this.linkTarget(e, where) : this.newInode(e));
  }

  /**
   * Finish the layer: its whiteouts and opaque markers now remove what lower layers made,
   * wherever they stood in the tar. Returns how many paths they removed.
   */
  endLayer(): number {
    this.removed = 0;
    for (const w of this.pending) {
      const node = this.lookup(w.path);
      if (!node) continue;
      if (w.opaque) this.purgeLower(node, 'opaque');
      else if (this.dropLower(node, 'whited-out')) this.unlink(w.path, node, 'whited-out');
    }
    this.pending = [];
    return this.removed;
  }

  /** Every path of the merged filesystem ("" is the root) with the layer that last wrote it. */
  *paths(node: Node = this.root, path = ''): Generator<{ path: string; layer: number; isDir: boolean; size: number }> {
    yield { path, layer: node.layer, isDir: node.children !== undefined, size: node.inode?.size ?? 0 };
    for (const [name, child] of node.children ?? []) yield* this.paths(child, path === '' ? name : `${path}/${name}`);
  }

  private newInode(e: CostEntry): Inode {
    const regular = e.type === 'file';
    const allocated = regular ? fileAllocated(e.size) : e.type === 'symlink' ? symlinkAllocated(e.linkname.length) : 0;
    return { regular, size: regular ? e.size : 0, allocated, layer: this.layer, path: e.path, names: 0 };
  }

  private linkTarget(e: CostEntry, where: string): Inode {
    const target = this.lookup(e.linkname)?.inode;
    if (!target) throw new LayerflatError('BAD_TAR', `${where}: hardlink "${displayPath(e.path)}" → missing "${displayPath(e.linkname)}"`);
    return target;
  }

  private put(path: string, inode: Inode | undefined): Applied {
    if (path === '') {
      this.root.layer = this.layer;
      return this.layer > 0 ? 'changed' : 'added';
    }
    const names = path.split('/');
    const base = names.pop()!;
    let parent = this.root;
    for (const name of names) parent = this.dirChild(parent, name);
    const old = parent.children!.get(base);
    const applied = old !== undefined && old.layer < this.layer ? 'changed' : 'added';
    if (old && ((old.children && !inode) || (inode && old.inode === inode))) {
      old.layer = this.layer; // a directory over a directory merges (and a self-link changes nothing)
      return applied;
    }
    if (old) this.detachTree(parent, base, old, 'overwritten');
    this.tally.link(parent, base, inode ? this.tally.newLeaf(this.layer, inode) : this.tally.newDir(this.layer));
    return applied;
  }

  /** The directory `name` under `parent`, made (or made to replace a non-directory) if needed. */
  private dirChild(parent: Node, name: string): Node {
    const existing = parent.children!.get(name);
    if (existing?.children) return existing;
    if (existing) this.detachTree(parent, name, existing, 'replaced');
    const dir = this.tally.newDir(this.layer);
    this.tally.link(parent, name, dir);
    return dir;
  }

  /** Delete everything under `node` that lower layers made; keep what this layer wrote. */
  private purgeLower(node: Node, reason: HiddenReason): void {
    for (const [name, child] of node.children ?? []) {
      if (!this.dropLower(child, reason)) continue;
      this.tally.unlink(node, name);
      this.release(child, reason);
      this.removed++;
    }
  }

  /** Whether `node` goes entirely; a lower directory holding this layer's entries stays, bare. */
  private dropLower(node: Node, reason: HiddenReason): boolean {
    this.purgeLower(node, reason);
    return node.layer !== this.layer && !(node.children && node.children.size > 0);
  }

  private unlink(path: string, node: Node, reason: HiddenReason): void {
    const { parent, base } = splitPath(path);
    this.tally.unlink(this.lookup(parent)!, base);
    this.release(node, reason);
    this.removed++;
  }

  /** Remove `node` and its whole subtree: the node for `reason`, what lay below it as replaced. */
  private detachTree(parent: Node, name: string, node: Node, reason: HiddenReason): void {
    this.tally.unlink(parent, name);
    const release = (n: Node, why: HiddenReason): void => {
      for (const child of n.children?.values() ?? []) release(child, 'replaced');
      this.release(n, why);
    };
    release(node, reason);
  }

  /** Account for a node that left the tree: if it was the last name of a file, that file is gone. */
  private release(node: Node, reason: HiddenReason): void {
    const gone = this.tally.release(node);
    if (gone) this.onGone(gone, this.layer, reason);
  }

  private lookup(path: string): Node | undefined {
    let node: Node | undefined = this.root;
    if (path === '') return node;
    for (const name of path.split('/')) {
      node = node?.children?.get(name);
      if (!node) return undefined;
    }
    return node;
  }
}
