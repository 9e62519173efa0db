/**
 * oci: an OCI image layout directory (transport name "oci", as in skopeo). Read in place; a new
 * DEST is built in a sibling temporary directory and renamed into place; an existing layout gets
 * the image added (see internal/layout-update.ts). Anything else at DEST is never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LayerflatError } from '../errors.js';
import type { Compression, OutputImage, WriteResult } from '../image/types.js';
import { removeTemp } from '../fsio/cleanup.js';
import { directoryBlobTarget } from '../formats/oci/blob-targets.js';
import { directoryTree } from '../formats/file-tree.js';
import { checkRefFree, makeStagingDir, publishIntoLayout } from '../formats/oci/layout-update.js';
import { readOciImage } from '../formats/oci/read.js';
import { OCI_LAYOUT_FILE, indexEntry, indexFile, writeOciImage } from '../formats/oci/write.js';
import { commitWhenBuilt, stageDirectory } from '../fsio/staged-output.js';
import { describeReference } from './reference.js';
import type { ImageReference, OpenedImage, Sink, SinkOptions, Source, SourceOptions } from './types.js';

async function open(ref: ImageReference, options: SourceOptions): Promise<OpenedImage> {
  const st = await fs.promises.stat(ref.path).catch(() => undefined);
  if (!st) throw new LayerflatError('NOT_FOUND', `OCI layout ${ref.path} does not exist`);
  if (!st.isDirectory())
    throw new LayerflatError(
      'BAD_REFERENCE',
      `${ref.path} is a file, not an OCI layout directory; for an archive use oci-archive:${ref.path}`,
    );
  const image = await readOciImage(directoryTree(ref.path), {
    ...(ref.ref !== undefined ? { ref: ref.ref } : {}),
    ...(options.platform ? { platform: options.platform } : {}),
    requireLayoutFile: true,
    origin: describeReference(ref),
  });
  return { image, close: async () => undefined };
}

/** Write a complete one-image layout into the empty directory `dir`. */
async function buildLayout(dir: string, image: OutputImage, compression: Compression, refName: string | undefined) {
  await fs.promises.writeFile(path.join(dir, 'oci-layout'), OCI_LAYOUT_FILE);
  const written = await writeOciImage(directoryBlobTarget(dir), image, compression);
  const entry = indexEntry(written.manifest, refName);
  const index = indexFile([entry]);
  await fs.promises.writeFile(path.join(dir, 'index.json'), index);
  const result: WriteResult = {
    ...written.result,
    bytesWritten: written.result.bytesWritten + index.length + OCI_LAYOUT_FILE.length,
  };
  return { entry, result };
}

function isLayout(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'oci-layout')) && fs.statSync(dir).isDirectory();
}

function stagedRef(dir: string, refName: string | undefined): ImageReference {
  return { transport: 'oci', path: dir, ...(refName !== undefined ? { ref: refName } : {}) };
}

async function addToLayout(
  layout: string,
  image: OutputImage,
  options: SinkOptions,
  refName: string | undefined,
): Promise<WriteResult> {
  await checkRefFree(layout, refName, options.force); // fail before writing gigabytes
  const staged = await makeStagingDir(layout);
  try {
    const { entry, result } = await buildLayout(staged, image, options.compression, refName);
    if (options.beforeCommit) await options.beforeCommit(stagedRef(staged, refName));
    await publishIntoLayout(staged, layout, entry, refName, options.force);
    return result;
  } finally {
    await removeTemp(staged).catch(() => undefined);
  }
}

/**
 * Write `image` into the layout at `ref.path`, named (org.opencontainers.image.ref.name) by the
 * destination's :REF, else the image's first tag. A new or empty DEST becomes a new layout; an
 * existing layout gets the image added, replacing one of the same name only with `force`.
 */
async function write(ref: ImageReference, image: OutputImage, options: SinkOptions): Promise<WriteResult> {
  const refName = ref.ref ?? image.tags[0];
  if (isLayout(ref.path)) return addToLayout(ref.path, image, options, refName);
  const staged = await stageDirectory(ref.path);
  const { beforeCommit } = options;
  const built = await commitWhenBuilt(
    staged,
    (dir) => buildLayout(dir, image, options.compression, refName),
    beforeCommit && (() => beforeCommit(stagedRef(staged.temp, refName))),
  );
  return built.result;
}

/** The oci (layout directory) transport; default gzip: registry-ready, what skopeo writes. */
export const ociLayout: Source & Sink = { defaultCompression: 'gzip', open, write };
