/**
 * What every transport implements. A transport is one storage format (docker-archive, oci, ...);
 * it never imports another transport — shared machinery lives in transports/internal/.
 */
import type { Compression, Image, OutputImage, Platform, WriteResult } from '../image/types.js';

/** A parsed "transport:path[:ref]" reference. `path` "-" means stdin/stdout. */
export interface ImageReference {
  transport: string;
  path: string;
  ref?: string;
}

export interface SourceOptions {
  /** Pick this platform from a multi-platform index (default: the host's). */
  platform?: Platform;
  /** Where to spool stdin when the source is "-" (default: os.tmpdir()). */
  tmpDir?: string;
}

/** An opened image plus the means to release what opening it took (fds, spooled files). */
export interface OpenedImage {
  image: Image;
  close(): Promise<void>;
}

export interface Source {
  open(ref: ImageReference, options: SourceOptions): Promise<OpenedImage>;
}

export interface SinkOptions {
  /** Compression for new layers (copied layers keep theirs). */
  compression: Compression;
  /** Replace an existing DEST (still only after the new one is complete). */
  force: boolean;
  /** Spool directory for outputs that cannot be written in place (stdout). */
  tmpDir?: string;
  /**
   * Called once the output is complete on disk under a temporary name and before it is
   * renamed into place; `staged` is a reference a Source can open. Throwing aborts the write
   * and removes the staged output (used by --verify).
   */
  beforeCommit?: (staged: ImageReference) => Promise<void>;
}

export interface Sink {
  /** The compression used when the user gives none, and why (shown in --help). */
  readonly defaultCompression: Compression;
  /**
   * Whether the sink streams to stdout with no temporary copy when every layer's size is known
   * in advance (OutputLayer 'new' with `size`) — worth a planning pass to learn that size.
   */
  readonly streamsPlannedLayers?: boolean;
  write(ref: ImageReference, image: OutputImage, options: SinkOptions): Promise<WriteResult>;
}
