/**
 * What every transport implements. A transport is a place images live — a path on disk, stdio,
 * and later the engines and registries; it never imports another transport — the byte layouts
 * they share live in formats/, the staging and temporary files in fsio/.
 */
import type { Readable, Writable } from 'node:stream';
import type { Compression, Image, OutputImage, Platform, WriteResult } from '../image/types.js';

/** The byte layouts a path or stdio can hold. */
export type Format = 'docker-archive' | 'oci' | 'oci-archive';

/**
 * A parsed "transport:path[:ref]" reference. `transport` 'auto' is a bare path (its format is
 * detected); 'stdio' is "-" (stdin or stdout), in `format` when one was named ("oci-archive:-");
 * 'docker-daemon' has the daemon's name for the image (NAME[:TAG] or an ID) as `path`; for
 * 'containers-storage' (also written "podman:") `path` is the image's NAME[:TAG] or ID.
 */
export interface ImageReference {
  transport: Format | 'auto' | 'stdio' | 'docker-daemon' | 'containers-storage';
  path: string;
  ref?: string;
  format?: 'docker-archive' | 'oci-archive';
}

export interface SourceOptions {
  /** Pick this platform from a multi-platform index (default: the host's). */
  platform?: Platform;
  /** Where to spool stdin (default: os.tmpdir()). */
  tmpDir?: string;
  /** What "-" reads; the library never reaches for the process's own streams itself. */
  stdin?: Readable;
  /** The Docker daemon's address for docker-daemon: (a DOCKER_HOST value; default its socket). */
  dockerHost?: string;
  /** The podman program for containers-storage: (default: "podman" on PATH). */
  podman?: string;
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
  /** Where outputs that cannot be built in place are built first (stdout). */
  tmpDir?: string;
  /** What "-" writes to. */
  stdout?: Writable;
  /** The Docker daemon's address for docker-daemon: (a DOCKER_HOST value). */
  dockerHost?: string;
  /** The podman program for containers-storage: (default: "podman" on PATH). */
  podman?: string;
  /** The -t names asked for (not the source's): an engine's image gets them besides DEST's name. */
  tags?: readonly string[];
  /**
   * Called once the output is complete under a temporary name and before it is put in place;
   * `staged` is a reference a Source can open. Throwing aborts the write and removes the staged
   * output (used by --verify).
   */
  beforeCommit?: (staged: ImageReference) => Promise<void>;
}

/** What a sink found at DEST before the layers are read, and what writing will need. */
interface SinkPlan {
  /** Something is already at DEST (writing it needs --force, and is then verified first). */
  exists: boolean;
  /** The sink streams out as it writes (stdout, unchecked) and wants every new layer's exact size first. */
  wantsLayerSizes: boolean;
}

/** What a sink is told before writing. */
interface SinkIntent {
  force: boolean;
  compression: Compression;
  /** The output will be checked before it is put in place (so it cannot stream out as it is made). */
  verify: boolean;
  /** The Docker daemon's address for docker-daemon: (a DOCKER_HOST value). */
  dockerHost?: string;
  /** As in SinkOptions. */
  podman?: string;
  tags?: readonly string[];
}

export interface Sink {
  /** The compression used when the user gives none. */
  readonly defaultCompression: Compression;
  /**
   * Check DEST before any layer is read — a missing parent directory, something there that
   * cannot be replaced, DEST_EXISTS without force — and say what writing will need.
   */
  prepare(ref: ImageReference, intent: SinkIntent): Promise<SinkPlan>;
  write(ref: ImageReference, image: OutputImage, options: SinkOptions): Promise<WriteResult>;
}
