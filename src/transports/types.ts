/**
 * What every transport implements. A transport is a place images live — a path on disk, stdio,
 * and later the engines and registries; it never imports another transport — the byte layouts
 * they share live in formats/, the staging and temporary files in fsio/.
 */
import type { Readable, Writable } from 'node:stream';
import type { Compression, Image, OutputImage, Platform, WriteResult } from '../image/types.js';
import type { RegistryOptions } from './registry/client.js';
import type { RegistryImage } from './registry/reference.js';

/** The byte layouts a path or stdio can hold. */
export type Format = 'docker-archive' | 'oci' | 'oci-archive';

/**
 * A parsed "transport:path[:ref]" reference. `transport` 'auto' is a bare path (its format is
 * detected); 'stdio' is "-" (stdin or stdout), in `format` when one was named ("oci-archive:-");
 * 'docker-daemon' has the daemon's name for the image (NAME[:TAG] or an ID) as `path`; for
 * 'containers-storage' (also written "podman:") `path` is the image's NAME[:TAG] or ID; for 'docker'
 * (a registry) `path` is REGISTRY/REPOSITORY, `ref` the tag or digest, and `registry` the parts.
 */
export interface ImageReference {
  transport: Format | 'auto' | 'stdio' | 'docker-daemon' | 'containers-storage' | 'docker';
  path: string;
  ref?: string;
  format?: 'docker-archive' | 'oci-archive';
  registry?: RegistryImage;
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
  /** Credentials, TLS and environment for docker:// sources. */
  registry?: RegistryOptions;
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
  /** Credentials, TLS and environment for a docker:// destination. */
  registry?: RegistryOptions;
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
  registry?: RegistryOptions;
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

/** An image in an engine's storage, as `layerflat reclaim` chooses and checks it. */
export interface StoredImage {
  /** The image ID: its config's sha256 hex (64 digits). */
  id: string;
  /** Every name the image has ("localhost/app:1"), as the engine lists them. */
  names: string[];
  /** The diff_ids of its layers, bottom first ("sha256:…"). */
  layers: string[];
  /** Bytes of its layers as the engine counts them. */
  size: number;
  /** The config's `config` object (Env, Cmd, …) as the engine reports it: what a run of it sees. */
  config: unknown;
}

/** A container and the image ID it was made from. */
export interface StoredContainer {
  id: string;
  name: string;
  imageId: string;
}

/**
 * An engine's image storage as reclaim uses it: list and inspect images, find the containers of
 * an image, move names, remove an image that no container uses. Each call is one engine command
 * (or request); moving a name to an image takes it from whichever image had it, in one step.
 */
export interface EngineStore {
  /** "podman" or "docker", for messages. */
  readonly engine: string;
  /** What identifies this storage (podman's graph root, the daemon's address): one reclaim at a time each. */
  identity(): Promise<string>;
  /** The filesystem directory the storage keeps its layers in, when known (for the space check). */
  storageDir(): Promise<string | undefined>;
  /** Every image with at least one layer. */
  images(): Promise<StoredImage[]>;
  /** One image by ID or name; undefined when the engine has none. */
  image(idOrName: string): Promise<StoredImage | undefined>;
  containers(): Promise<StoredContainer[]>;
  /** Give `name` to image `id` (the image that had it loses it). */
  tag(id: string, name: string): Promise<void>;
  /** Take `name` away from the image that has it; only for an image that has other names too. */
  untag(name: string): Promise<void>;
  /** Remove image `id`; refused by the engine (ENGINE_FAILED) while a container uses it. */
  remove(id: string): Promise<void>;
  /** The flatten references of an image ID and of a name in this storage. */
  reference(idOrName: string): string;
  /** Free bytes in `dir`, undefined when unknown. */
  freeBytes(dir: string): Promise<number | undefined>;
  /** Bytes the storage takes on disk now, measured, and how. */
  usage(): Promise<{ bytes: number; method: string } | undefined>;
}
