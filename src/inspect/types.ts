/**
 * What `inspect` reports. Every size is in bytes; JSON output is this object as it is.
 */
import type { HiddenReason } from '../engine/whiteout.js';

/** What the analysis learns about one layer from its entries alone. */
export interface LayerFsStats {
  /** Tar entries in the layer, whatever they are. */
  entries: number;
  /** Entries at paths that did not exist below this layer. */
  added: number;
  /** Entries at paths that existed below (rewritten file, directory metadata, replaced type). */
  changed: number;
  /** `.wh.NAME` entries. */
  whiteouts: number;
  /** `.wh..wh..opq` entries. */
  opaqueDirs: number;
  /** Paths of lower layers that this layer's whiteouts and opaque markers removed. */
  removedPaths: number;
  /** Sum of the sizes of the regular files this layer's tar holds (hardlinks add nothing). */
  contentBytes: number;
  /** Of contentBytes, what is not in the final merged filesystem (overwritten or deleted later). */
  wastedBytes: number;
  /** Regular-file bytes visible after applying layers 0..this one, each hardlinked file once. */
  mergedBytes: number;
  /** Regular files (inodes) visible after this layer. */
  mergedFiles: number;
  /** What `du` would show for this layer's directory in VFS storage: a full copy of the merged tree. */
  vfsBytes: number;
}

/** A file whose bytes a later layer made invisible. */
export interface ShadowedFile {
  /** Absolute path, printable (non-UTF-8 bytes escaped). */
  path: string;
  bytes: number;
  /** Layer index that wrote it, and the one that hid it. */
  addedIn: number;
  hiddenIn: number;
  /**
   * overwritten: same path rewritten; whited-out / opaque: deleted; replaced: a parent became a non-directory, or the
   * reverse.
   */
  how: HiddenReason;
}

/** The disk `du` would show for the image in VFS storage, layered and flattened. */
export interface VfsCost {
  /** Allocation unit the estimate rounds every file up to. */
  blockSize: number;
  /** Sum over layers of each layer's full copy. */
  imageBytes: number;
  /** imageBytes plus one container (one more copy of the merged tree). */
  imagePlusContainerBytes: number;
  /** The same image flattened to one layer: one copy. */
  flatImageBytes: number;
  /** Flattened plus one container: two copies. */
  flatPlusContainerBytes: number;
  /** imagePlusContainerBytes − flatPlusContainerBytes. */
  savingBytes: number;
  /** imagePlusContainerBytes ÷ flatPlusContainerBytes. */
  savingFactor: number;
}

/** One layer of the report: where it came from, its sizes, and what it does to the filesystem. */
export interface LayerReport extends LayerFsStats {
  index: number;
  /** Blob digest when the source knows it. */
  digest?: string;
  diffId: string;
  /** The history line that made it; undefined when history and layers cannot be matched. */
  createdBy?: string;
  /** Stored blob size when known, else the uncompressed size. */
  compressedBytes: number;
  compression?: string;
  /** Uncompressed tar bytes. */
  tarBytes: number;
}

export interface InspectResult {
  source: string;
  origin: string;
  tags: string[];
  layers: LayerReport[];
  totals: {
    layers: number;
    compressedBytes: number;
    tarBytes: number;
    contentBytes: number;
    /** The final merged filesystem: regular-file bytes (hardlinks once) and files. */
    mergedBytes: number;
    mergedFiles: number;
    wastedBytes: number;
  };
  vfs: VfsCost;
  /** Largest files that a later layer overwrote or deleted, biggest first. */
  shadowed: ShadowedFile[];
  /** With --dedupe: the files `flatten --dedupe` would store as hardlinks, and the bytes saved. */
  dedupe?: { files: number; bytes: number };
  seconds: number;
}
