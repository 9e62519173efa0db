/**
 * Writing OCI layouts: a whole one-image layout into an empty directory, and the same as one tar
 * (an oci-archive) into an archive being written. The index.json names the image by `refName`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { asLayerflatError } from '../../errors.js';
import type { Compression, Descriptor, OutputImage, WriteResult } from '../../image/types.js';
import type { TarFileWriter } from '../../tar/archive-file-writer.js';
import { archiveBlobTarget, directoryBlobTarget } from './blob-targets.js';
import { indexEntry, indexFile, OCI_LAYOUT_FILE, writeOciImage } from './write.js';

/** Write a complete one-image layout into the empty directory `dir`. */
export async function writeLayoutDirectory(
  dir: string,
  image: OutputImage,
  compression: Compression,
  refName: string | undefined,
): Promise<{ entry: Descriptor; result: WriteResult }> {
  const put = async (name: string, data: Buffer) => {
    const file = path.join(dir, name);
    await fs.promises.writeFile(file, data, { flag: 'wx' }).catch((err: unknown) => {
      throw asLayerflatError(err, `writing ${file}`);
    });
  };
  await put('oci-layout', OCI_LAYOUT_FILE);
  const written = await writeOciImage(directoryBlobTarget(dir), image, compression);
  const entry = indexEntry(written.manifest, refName);
  const index = indexFile([entry]);
  await put('index.json', index);
  const bytesWritten = written.result.bytesWritten + index.length + OCI_LAYOUT_FILE.length;
  return { entry, result: { ...written.result, bytesWritten } };
}

/** The members of an oci-archive: oci-layout, the blobs, index.json. */
export async function writeOciArchive(
  writer: TarFileWriter,
  image: OutputImage,
  compression: Compression,
  refName: string | undefined,
): Promise<WriteResult> {
  await writer.addFile('oci-layout', OCI_LAYOUT_FILE);
  await writer.addDirectory('blobs');
  await writer.addDirectory('blobs/sha256');
  const written = await writeOciImage(archiveBlobTarget(writer), image, compression);
  await writer.addFile('index.json', indexFile([indexEntry(written.manifest, refName)]));
  return written.result;
}
