/**
 * The nodes of inspect's filesystem model, and the running du-like tally of what they occupy.
 * Nodes enter and leave the tree only through a Tally, so its totals always describe the tree.
 */
import type { FsNode } from '../engine/fs-tree.js';
import { dirAllocated, direntBytes } from './du.js';

/** A non-directory inode; hardlinked names share one, so its bytes count once. */
export interface Inode {
  regular: boolean;
  /** Content bytes of a regular file; 0 for symlinks, devices and fifos. */
  size: number;
  /** What `du` would count for it (see du.ts). */
  allocated: number;
  /** The layer whose entry wrote this content. */
  layer: number;
  /** The name it was written under. */
  path: string;
  /** How many names in the tree refer to it. */
  names: number;
}

/** A path of the tree: a directory, or a name of an inode (the tree's value). */
export type Node = FsNode<Inode | undefined>;

/** Running totals of the tree; `allocated` is the du-like size of one copy of it. */
export interface TreeTotals {
  regularBytes: number;
  regularFiles: number;
  dirs: number;
  others: number;
  allocated: number;
}

/** A directory's ext4 entry bytes, and the du-like size that follows from them. */
interface DirSize {
  entryBytes: number;
  allocated: number;
}

export class Tally {
  /** Starts with the root directory, which every copy has. */
  readonly totals: TreeTotals = { regularBytes: 0, regularFiles: 0, dirs: 1, others: 0, allocated: dirAllocated(0) };
  private readonly dirs = new Map<Node, DirSize>();

  /** `node` (new, with no children) was put under `parent` as `name`. */
  link(parent: Node, name: string, node: Node): void {
    this.resize(parent, direntBytes(name.length));
    const t = this.totals;
    if (node.isDir) {
      t.dirs++;
      t.allocated += this.sizeOf(node).allocated;
      return;
    }
    const inode = node.value!;
    if (inode.names++ > 0) return; // another name of a counted inode
    t.allocated += inode.allocated;
    if (!inode.regular) t.others++;
    else {
      t.regularBytes += inode.size;
      t.regularFiles++;
    }
  }

  /** `name` was taken out of `parent`; the node (and its subtree) is released after. */
  unlink(parent: Node, name: string): void {
    this.resize(parent, -direntBytes(name.length));
  }

  /** Account for a node that left the tree; returns its inode if that was the inode's last name. */
  release(node: Node): Inode | undefined {
    const t = this.totals;
    if (node.isDir) {
      t.dirs--;
      t.allocated -= this.sizeOf(node).allocated;
      this.dirs.delete(node);
      return undefined;
    }
    const inode = node.value!;
    if (--inode.names > 0) return undefined;
    t.allocated -= inode.allocated;
    if (!inode.regular) t.others--;
    else {
      t.regularBytes -= inode.size;
      t.regularFiles--;
    }
    return inode;
  }

  private sizeOf(dir: Node): DirSize {
    let size = this.dirs.get(dir);
    if (!size) this.dirs.set(dir, (size = { entryBytes: 0, allocated: dirAllocated(0) }));
    return size;
  }

  /** A directory grows as names are added: ext4 never shrinks it, but a fresh copy is compact. */
  private resize(dir: Node, delta: number): void {
    const size = this.sizeOf(dir);
    this.totals.allocated -= size.allocated;
    size.entryBytes += delta;
    size.allocated = dirAllocated(size.entryBytes);
    this.totals.allocated += size.allocated;
  }
}
