/**
 * The analysis behind `inspect`, pure over entry metadata: feed it each layer's entries bottom-up
 * and it tells, per layer, what the layer adds, changes and deletes, which of its bytes end up
 * hidden, and what one VFS copy of the merged tree costs after it. No file data, no I/O.
 */
import { withContext } from '../errors.js';
import type { HiddenReason } from '../engine/whiteout.js';
import { displayPath } from '../tar/entry.js';
import { BLOCK_SIZE } from './du.js';
import { CostTree, type CostEntry, type Inode } from './tree.js';
import type { LayerFsStats, ShadowedFile, VfsCost } from './types.js';

interface Hidden {
  inode: Inode;
  hiddenIn: number;
  how: HiddenReason;
}

export class LayerAnalysis {
  /** Per-layer results, filled in as layers end. */
  readonly layers: LayerFsStats[] = [];
  private readonly tree = new CostTree((inode, by, how) => this.hidden(inode, by, how));
  private current?: LayerFsStats;
  private where = '';
  private largest: Hidden[] = [];

  /** @param top how many of the largest shadowed files to keep. */
  constructor(private readonly top = 10) {}

  /** Start layer `index` (0 = bottom); `where` names it in error messages. */
  startLayer(index: number, where: string): void {
    if (index !== this.layers.length)
      throw new Error(`LayerAnalysis: layer ${index} started, expected ${this.layers.length}`);
    this.where = where;
    this.current = {
      entries: 0,
      added: 0,
      changed: 0,
      whiteouts: 0,
      opaqueDirs: 0,
      removedPaths: 0,
      contentBytes: 0,
      wastedBytes: 0,
      mergedBytes: 0,
      mergedFiles: 0,
      vfsBytes: 0,
    };
    this.layers.push(this.current);
    this.tree.startLayer(index);
  }

  /** One entry of the current layer, in tar order. */
  entry(e: CostEntry): void {
    const s = this.current!;
    s.entries++;
    if (e.type === 'file') s.contentBytes += e.size;
    let applied;
    try {
      applied = this.tree.apply(e);
    } catch (err) {
      throw withContext(err, this.where);
    }
    if (applied === 'added') s.added++;
    else if (applied === 'changed') s.changed++;
    else if (applied === 'whiteout') s.whiteouts++;
    else if (applied === 'opaque') s.opaqueDirs++;
  }

  /** End the current layer: apply its whiteouts, take the merged tree's measure. */
  endLayer(): LayerFsStats {
    const s = this.current!;
    s.removedPaths = this.tree.endLayer();
    s.mergedBytes = this.tree.totals.regularBytes;
    s.mergedFiles = this.tree.totals.regularFiles;
    s.vfsBytes = this.tree.totals.allocated;
    this.current = undefined;
    return s;
  }

  /** The largest files that a later layer hid, biggest first (ties: lower layer, then path). */
  shadowed(): ShadowedFile[] {
    return this.prune().map(({ inode, hiddenIn, how }) => ({
      path: `/${displayPath(inode.path)}`,
      bytes: inode.size,
      addedIn: inode.layer,
      hiddenIn,
      how,
    }));
  }

  private hidden(inode: Inode, hiddenIn: number, how: HiddenReason): void {
    if (!inode.regular) return;
    this.layers[inode.layer]!.wastedBytes += inode.size;
    if (this.top <= 0 || inode.size === 0) return;
    this.largest.push({ inode, hiddenIn, how });
    // Keep only a few candidates, so memory follows the number of paths, not of hidden files.
    if (this.largest.length > 4 * this.top + 64) this.prune();
  }

  private prune(): Hidden[] {
    this.largest.sort(
      (a, b) => b.inode.size - a.inode.size || a.inode.layer - b.inode.layer || (a.inode.path < b.inode.path ? -1 : 1),
    );
    this.largest.length = Math.min(this.largest.length, this.top);
    return this.largest;
  }
}

/**
 * The VFS cost of a stack of layers: every layer directory is a full copy of the merged tree as
 * it stands after that layer, and a container one more copy of the top; flattened, the image is
 * one copy and a container another.
 */
export function vfsCost(layers: readonly Pick<LayerFsStats, 'vfsBytes'>[]): VfsCost {
  const imageBytes = layers.reduce((sum, l) => sum + l.vfsBytes, 0);
  const top = layers.at(-1)?.vfsBytes ?? 0;
  const imagePlusContainerBytes = imageBytes + top;
  const flatPlusContainerBytes = 2 * top;
  return {
    blockSize: BLOCK_SIZE,
    imageBytes,
    imagePlusContainerBytes,
    flatImageBytes: top,
    flatPlusContainerBytes,
    savingBytes: imagePlusContainerBytes - flatPlusContainerBytes,
    savingFactor: flatPlusContainerBytes > 0 ? imagePlusContainerBytes / flatPlusContainerBytes : 1,
  };
}
