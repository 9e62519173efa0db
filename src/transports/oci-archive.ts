/**
 * oci-archive: an OCI image layout stored as one tar file (what `skopeo copy … oci-archive:`
 * and `podman save --format oci-archive` write). Read in place by positioned reads; written
 * beside DEST and renamed into place when complete.
 */
import { LayerflatError } from '../errors.js';
import type { OutputImage, WriteResult } from '../image/types.js';
import { archiveBlobTarget } from '../formats/oci/blob-targets.js';
import { writeArchive, writeFileOutput } from '../fsio/file-output.js';
import { tarFileTree } from '../formats/file-tree.js';
import { readOciImage } from '../formats/oci/read.js';
import { OCI_LAYOUT_FILE, indexEntry, indexFile, writeOciImage } from '../formats/oci/write.js';
import { describeReference } from './reference.js';
import type { ImageReference, OpenedImage, Sink, SinkOptions, Source, SourceOptions } from './types.js';

async function open(ref: ImageReference, options: SourceOptions): Promise<OpenedImage> {
  const tree = await tarFileTree(ref.path);
  if (!tree.has('index.json'))
    throw new LayerflatError('BAD_MANIFEST', `${ref.path}: not an OCI archive (no index.json)`);
  const image = await readOciImage(tree, {
    ...(ref.ref !== undefined ? { ref: ref.ref } : {}),
    ...(options.platform ? { platform: options.platform } : {}),
    requireLayoutFile: false,
    origin: describeReference(ref),
  });
  return { image, close: async () => undefined };
}

/**
 * Write `image` as a one-image OCI archive at `ref.path` ("-": stdout), named by the
 * destination's :REF, else by the image's first tag.
 */
async function write(ref: ImageReference, image: OutputImage, options: SinkOptions): Promise<WriteResult> {
  const refName = ref.ref ?? image.tags[0];
  const build = async (file: string) => {
    const { result, size } = await writeArchive(file, async (writer) => {
      await writer.addFile('oci-layout', OCI_LAYOUT_FILE);
      await writer.addDirectory('blobs');
      await writer.addDirectory('blobs/sha256');
      const written = await writeOciImage(archiveBlobTarget(writer), image, options.compression);
      await writer.addFile('index.json', indexFile([indexEntry(written.manifest, refName)]));
      return written.result;
    });
    return { ...result, bytesWritten: size };
  };
  return writeFileOutput(ref, options, build, (file) => ({
    transport: 'oci-archive',
    path: file,
    ...(refName !== undefined ? { ref: refName } : {}),
  }));
}

/** The oci-archive transport; default gzip, as registries and skopeo expect. */
export const ociArchive: Source & Sink = { defaultCompression: 'gzip', open, write };
