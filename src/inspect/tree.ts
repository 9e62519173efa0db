/**
 * The merged filesystem as an engine builds it — verify's bottom-up FsTree, the one model of the
 * engine rules — measured as it changes: per path the layer that wrote it and its inode's sizes,
 * and a running du-like tally. Inspect needs every removal as it happens (that is when a file's
 * bytes become "wasted", and by which layer), which the tree reports to its observer. Memory
 * grows with the number of paths, never with file sizes.
 */
import type { HiddenReason } from '../engine/whiteout.js';
import type { EntryType } from '../tar/entry.js';
import { FsTree, type Applied } from '../engine/fs-tree.js';
import { fileAllocated, symlinkAllocated } from './du.js';
import { Tally, type Inode, type TreeTotals } from './nodes.js';

export type { Inode, TreeTotals } from './nodes.js';
export type { Applied } from '../engine/fs-tree.js';

/** The entry metadata the model needs (a TarEntry has all of it). */
export interface CostEntry {
  path: string;
  type: EntryType;
  size: number;
  linkname: string;
  rooted?: boolean;
}

/** Called when an inode loses its last name: its content is gone from the merged filesystem. */
export type GoneListener = (inode: Inode, byLayer: number, reason: HiddenReason) => void;

export class CostTree {
  private readonly tally = new Tally();
  private readonly tree: FsTree<Inode | undefined>;
  private layer = -1;

  constructor(onGone: GoneListener = () => {}) {
    this.tree = new FsTree<Inode | undefined>({
      observer: {
        linked: (parent, name, node) => this.tally.link(parent, name, node),
        unlinked: (parent, name) => this.tally.unlink(parent, name),
        released: (node, reason) => {
          const gone = this.tally.release(node);
          if (gone) onGone(gone, this.layer, reason);
        },
      },
    });
  }

  /** The merged filesystem as it stands now. */
  get totals(): Readonly<TreeTotals> {
    return this.tally.totals;
  }

  /** Start applying layer `index` (layers must come bottom-up). */
  startLayer(index: number): void {
    this.layer = index;
    this.tree.startLayer(index);
  }

  /** Apply one entry; whiteouts and opaque markers wait for endLayer. */
  apply(e: CostEntry): Applied {
    const inode = e.type === 'dir' || e.type === 'hardlink' ? undefined : this.newInode(e);
    return this.tree.apply({ path: e.path, type: e.type, linkname: e.linkname, value: inode, rooted: e.rooted });
  }

  /**
   * Finish the layer: its whiteouts and opaque markers now remove what lower layers made,
   * wherever they stood in the tar. Returns how many paths they removed.
   */
  endLayer(): number {
    return this.tree.endLayer();
  }

  /** Every path of the merged filesystem ("" is the root, parents first) with the layer that last wrote it. */
  *paths(): Generator<{ path: string; layer: number; isDir: boolean; inode?: Inode }> {
    for (const [path, node] of this.tree.walk())
      yield { path, layer: node.layer, isDir: node.isDir, inode: node.value };
  }

  private newInode(e: CostEntry): Inode {
    const regular = e.type === 'file';
    const allocated = regular ? fileAllocated(e.size) : e.type === 'symlink' ? symlinkAllocated(e.linkname.length) : 0;
    return { regular, size: regular ? e.size : 0, allocated, layer: this.layer, path: e.path, names: 0 };
  }
}
