/**
 * Opening one side of a comparison: any image layerflat reads, or a plain filesystem tar
 * (`tar:PATH`, or a bare path to a tar that holds no image metadata at all — what `docker export`
 * writes). A tar with a manifest.json, index.json or oci-layout is an image, and a broken one is
 * refused as flatten refuses it, never compared as a filesystem.
 */
import type { Readable } from 'node:stream';
import { wholeFile } from '../bytes/file-range.js';
import type { FsTree } from '../engine/fs-tree.js';
import { detectFormat } from '../formats/detect.js';
import { parsePlatform } from '../image/platform.js';
import type { Image } from '../image/types.js';
import { layerTar, layerWhere, type LayerTar } from '../layers/layer-tar.js';
import { openSource } from '../transports/index.js';
import { parseReference } from '../transports/reference.js';
import type { RegistryOptions } from '../transports/registry/client.js';
import type { ImageReference } from '../transports/types.js';
import type { FileFacts } from './facts.js';
import { imageView } from './image-view.js';

export interface SideOptions {
  platform?: string;
  tmpDir?: string;
  /** What "-" reads. */
  stdin?: Readable;
  /** The Docker daemon for docker-daemon: references (a DOCKER_HOST value). */
  dockerHost?: string;
  /** The podman program for containers-storage: (default: "podman" on PATH). */
  podman?: string;
  /** Credentials, TLS and environment for docker:// references. */
  registry?: RegistryOptions;
}

/** The merged filesystem of an image's layers. */
export function viewOfImage(image: Image): Promise<FsTree<FileFacts>> {
  return imageView(image.layers.map((l, i) => layerTar(l, layerWhere(image, i))));
}

/** The merged filesystem that `text` names. */
export async function viewOf(text: string, options: SideOptions = {}): Promise<FsTree<FileFacts>> {
  if (text.startsWith('tar:')) return imageView([await filesystemTar(text.slice(4))]);
  return viewOfReference(parseReference(text, 'source'), options);
}

/** The merged filesystem of the image `ref` names (a bare path may be a filesystem tar). */
export async function viewOfReference(ref: ImageReference, options: SideOptions = {}): Promise<FsTree<FileFacts>> {
  if (ref.transport === 'auto') {
    const found = await detectFormat(ref.path);
    if (found.format === 'filesystem' || found.format === 'compressed') {
      return imageView([await filesystemTar(ref.path)]);
    }
  }
  const platform = options.platform ? parsePlatform(options.platform) : undefined;
  const { tmpDir, stdin, dockerHost, podman, registry } = options;
  const opened = await openSource(ref, { platform, tmpDir, stdin, dockerHost, podman, registry });
  try {
    return await viewOfImage(opened.image);
  } finally {
    await opened.close();
  }
}

/** A filesystem tar read as a single layer (it may be compressed); it has no diff_id to check. */
async function filesystemTar(path: string): Promise<LayerTar> {
  return layerTar({ source: { file: await wholeFile(path) } }, `filesystem tar ${path}`);
}
