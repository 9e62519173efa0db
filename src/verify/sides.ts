/**
 * Opening one side of a comparison: any image layerflat reads, or a plain filesystem tar
 * (`tar:PATH`, or a bare path to a tar that holds no image — what `docker export` writes).
 */
import fs from 'node:fs';
import { LayerflatError } from '../errors.js';
import { parsePlatform } from '../image/platform.js';
import type { Image } from '../image/types.js';
import { layerTar, layerWhere } from '../layers/layer-tar.js';
import type { LayerTar } from '../merge/merge-stream.js';
import { openSource, parseReference, type ImageReference } from '../transports/index.js';
import type { FileFacts } from './facts.js';
import type { FsTree } from '../engine/fs-tree.js';
import { imageView } from './image-view.js';

export interface SideOptions {
  platform?: string;
  tmpDir?: string;
}

/** The merged filesystem of an image's layers. */
export function viewOfImage(image: Image): Promise<FsTree<FileFacts>> {
  return imageView(image.layers.map((l, i) => layerTar(l, layerWhere(image, i))));
}

/** The merged filesystem that `text` names. */
export async function viewOf(text: string, options: SideOptions = {}): Promise<FsTree<FileFacts>> {
  if (text.startsWith('tar:')) return imageView([filesystemTar(text.slice(4))]);
  return viewOfReference(parseReference(text, 'source'), options);
}

/** The merged filesystem of the image `ref` names (a bare path may be a filesystem tar). */
export async function viewOfReference(ref: ImageReference, options: SideOptions = {}): Promise<FsTree<FileFacts>> {
  const platform = options.platform ? parsePlatform(options.platform) : undefined;
  let opened;
  try {
    opened = await openSource(ref, { platform, tmpDir: options.tmpDir });
  } catch (err) {
    // A bare path to a tar without image metadata is a filesystem tar (docker/podman export).
    if (
      ref.transport === 'auto' &&
      ref.path !== '-' &&
      err instanceof LayerflatError &&
      err.code === 'BAD_MANIFEST' &&
      isFile(ref.path)
    ) {
      return imageView([filesystemTar(ref.path)]);
    }
    throw err;
  }
  try {
    return await viewOfImage(opened.image);
  } finally {
    await opened.close();
  }
}

function isFile(path: string): boolean {
  return fs.statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** A filesystem tar read as a single layer (it may be compressed); it has no diff_id to check. */
function filesystemTar(path: string): LayerTar {
  const open = async () => {
    if (!isFile(path)) throw new LayerflatError('NOT_FOUND', `${path} does not exist or is not a file`);
    return fs.createReadStream(path);
  };
  return layerTar({ diffId: '', open }, `filesystem tar ${path}`);
}
