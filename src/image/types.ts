/**
 * The image model shared by every transport: an Image is a manifest's worth of metadata
 * plus layers whose bytes are opened lazily, so nothing is read until the merge asks for it.
 * Modelled on go-containerregistry's v1.Image / v1.Layer, reduced to what flattening needs.
 */
import type { Digest } from './digest.js';

/** os/arch[/variant], as in an OCI index's platform field. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** A byte range of a file: a blob of a layout, a member of an archive, a spooled stream. */
export interface FileRange {
  readonly path: string;
  readonly start: number;
  readonly size: number;
}

/**
 * Where a blob's stored bytes are: a range of a file, read in place (a blob of a layout, a member
 * of an archive, a spooled stream), or a stream opened afresh for every read.
 */
export type BlobSource = { readonly file: FileRange } | { readonly stream: () => AsyncIterable<Buffer | Uint8Array> };

/**
 * One layer blob as stored (plain tar, gzip or zstd — the reader detects which) and what it must
 * hash to. Its bytes are read only through layers/read.ts, which attaches the checks that fit the
 * way it reads them: a Layer has no other way to its bytes.
 */
export interface Layer {
  /** Digest of the stored blob, when the source knows it. */
  readonly digest?: Digest;
  /** The media type the source declared, or undefined (docker-archive has none). */
  readonly mediaType?: string;
  /** Stored size in bytes, as the descriptor (or the archive) gives it. */
  readonly size?: number;
  /** The uncompressed digest from the config's rootfs.diff_ids; undefined for a filesystem tar. */
  readonly diffId?: Digest;
  readonly source: BlobSource;
  /** The registry repository the blob was read from, if any: a push to that registry can mount it. */
  readonly origin?: { readonly registry: string; readonly repository: string };
}

/** The parsed image config (Docker or OCI); unknown fields are kept as they are. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** An image read from a source: its config, its layers bottom-first, and the names it had. */
export interface Image {
  readonly config: ImageConfig;
  /** Layers bottom (base) first; length equals config.rootfs.diff_ids.length. */
  readonly layers: readonly Layer[];
  /** Names the source gave the image: "repo:tag" for docker-archive, ref names for OCI. */
  readonly tags: readonly string[];
  /** Where it came from, for messages ("docker-archive:/x.tar image 2"). */
  readonly origin: string;
}

/** How a layer's bytes are compressed. */
export type Compression = 'none' | 'gzip' | 'zstd';

/**
 * A layer of an output image. A `new` layer is an uncompressed tar stream that can be opened
 * once; the sink compresses it as asked and learns its digests while writing. A `copy` layer is
 * a source layer kept as it is (--keep-base): its stored bytes are copied without re-encoding.
 */
export type OutputLayer =
  | {
      readonly kind: 'new';
      open(options?: OpenNewLayerOptions): Promise<AsyncIterable<Buffer>>;
      /** exact uncompressed size, when planned ahead */ readonly size?: number;
    }
  | {
      readonly kind: 'copy';
      readonly layer: Layer;
      /** How messages name the layer ("layer 1/3 (sha256:ab12…) of x.tar"): a damaged one fails naming it. */
      readonly where?: string;
    };

export interface OpenNewLayerOptions {
  /**
   * The reader is done with each chunk (has copied or written it) before it asks for the next,
   * so the producer may hand out chunks of buffers it reuses.
   */
  chunksMayBeReused?: boolean;
}

/** What a sink writes: an edited config (rootfs.diff_ids filled in by the sink), layers, names. */
export interface OutputImage {
  /** Config with every field except rootfs.diff_ids final; the sink sets diff_ids. */
  readonly config: ImageConfig;
  readonly layers: readonly OutputLayer[];
  readonly tags: readonly string[];
}

/** What a sink reports after writing. */
export interface WriteResult {
  manifestDigest: Digest;
  configDigest: Digest;
  layers: { digest: Digest; diffId: Digest; size: number; mediaType: string }[];
  bytesWritten: number;
  /** The names the image got, when the sink decides them (an engine's storage). */
  names?: string[];
}
