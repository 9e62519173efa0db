/**
 * The nodes of inspect's filesystem model, and the running du-like tally of what they occupy.
 * Nodes enter and leave the tree only through a Tally, so its totals always describe the tree.
 */
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

/** A path of the tree: a directory (children) or a name of an inode. */
export interface Node {
  /** The layer that made or last rewrote this path. */
  layer: number;
  inode?: Inode;
  children?: Map<string, Node>;
  /** Directories: ext4 entry bytes of the children, and the du-like size that follows. */
  entryBytes: number;
  allocated: number;
}

/** Running totals of the tree; `allocated` is the du-like size of one copy of it. */
export interface TreeTotals {
  regularBytes: number;
  regularFiles: number;
  dirs: number;
  others: number;
  allocated: number;
}

export class Tally {
  /** Starts with the root directory, which every copy has. */
  readonly totals: TreeTotals = { regularBytes: 0, regularFiles: 0, dirs: 1, others: 0, allocated: dirAllocated(0) };

  newDir(layer: number): Node {
    return { layer, children: new Map(), entryBytes: 0, allocated: dirAllocated(0) };
  }

  newLeaf(layer: number, inode: Inode): Node {
    return { layer, inode, entryBytes: 0, allocated: 0 };
  }

  /** Put `node` (new, with no children) under `parent` as `name`. */
  link(parent: Node, name: string, node: Node): void {
    parent.children!.set(name, node);
    this.resize(parent, direntBytes(name.length));
    const t = this.totals;
    if (node.children) {
      t.dirs++;
      t.allocated += node.allocated;
      return;
    }
    const inode = node.inode!;
    if (inode.names++ > 0) return; // another name of a counted inode
    t.allocated += inode.allocated;
    if (inode.regular) (t.regularBytes += inode.size), t.regularFiles++;
    else t.others++;
  }

  /** Take `name` out of `parent`; the caller releases the node (and its subtree) after. */
  unlink(parent: Node, name: string): void {
    parent.children!.delete(name);
    this.resize(parent, -direntBytes(name.length));
  }

  /** Account for a node that left the tree; returns its inode if that was the inode's last name. */
  release(node: Node): Inode | undefined {
    const t = this.totals;
    if (node.children) {
      t.dirs--;
      t.allocated -= node.allocated;
      return undefined;
    }
    const inode = node.inode!;
    if (--inode.names > 0) return undefined;
    t.allocated -= inode.allocated;
    if (inode.regular) (t.regularBytes -= inode.size), t.regularFiles--;
    else t.others--;
    return inode;
  }

  /** A directory grows as names are added: ext4 never shrinks it, but a fresh copy is compact. */
  private resize(dir: Node, delta: number): void {
    this.totals.allocated -= dir.allocated;
    dir.entryBytes += delta;
    dir.allocated = dirAllocated(dir.entryBytes);
    this.totals.allocated += dir.allocated;
  }
}
