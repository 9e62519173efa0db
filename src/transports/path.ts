/**
 * Images at a path: `docker-archive:PATH`, `oci:DIR`, `oci-archive:PATH`, or a bare PATH whose
 * format is detected (a destination bare path is a docker-archive). Read in place; written under
 * a temporary name beside DEST and put in place only when complete (and, when asked, verified).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LayerflatError } from '../errors.js';
import type { OutputImage, WriteResult } from '../image/types.js';
import { detectFormat } from '../formats/detect.js';
import { directoryTree, tarFileTree, type FileTree } from '../formats/file-tree.js';
import { readDockerArchive } from '../formats/docker-archive/read.js';
import { repoTagsFor } from '../formats/docker-archive/manifest.js';
import { writeDockerArchive } from '../formats/docker-archive/write.js';
import { readOciImage } from '../formats/oci/read.js';
import { writeLayoutDirectory, writeOciArchive } from '../formats/oci/layout.js';
import { addToLayout, checkRefFree, mergeIntoLayout } from '../formats/oci/layout-update.js';
import {
  commitWhenBuilt,
  checkFileDest,
  checkDirectoryDest,
  checkWritableDir,
  stageDirectory,
  stageFile,
} from '../fsio/staged-output.js';
import { TarFileWriter } from '../tar/archive-file-writer.js';
import { describeReference } from './reference.js';
import type { Format, ImageReference, OpenedImage, Sink, Source, SourceOptions } from './types.js';

/** Open the image a path reference names. */
async function open(ref: ImageReference, options: SourceOptions): Promise<OpenedImage> {
  let tree: FileTree;
  let format: Format;
  if (ref.transport === 'auto') {
    const found = await detectFormat(ref.path);
    if (found.format === 'compressed') {
      const why = 'decompress it first (layerflat reads archives in place, which needs a plain tar)';
      throw new LayerflatError('NOT_A_TAR', `${ref.path} is ${found.compression}-compressed; ${why}`);
    }
    if (found.format === 'filesystem') throw notAnImage(ref.path);
    format = found.format;
    tree = found.format === 'oci' ? directoryTree(ref.path) : found.tree;
  } else {
    format = ref.transport as Format;
    tree = format === 'oci' ? await layoutTree(ref.path) : await archiveTree(ref.path, format);
  }
  const read = { ref: ref.ref, platform: options.platform, origin: describeReference({ ...ref, transport: format }) };
  if (format === 'oci-archive' && !tree.has('index.json')) {
    throw new LayerflatError('BAD_MANIFEST', `${ref.path}: not an OCI archive (no index.json)`);
  }
  const image =
    format === 'docker-archive'
      ? await readDockerArchive(tree, read)
      : await readOciImage(tree, { ...read, requireLayoutFile: format === 'oci' });
  return { image, close: async () => undefined };
}

function notAnImage(label: string): LayerflatError {
  return new LayerflatError(
    'BAD_MANIFEST',
    `${label} is a tar archive but no image: no manifest.json (docker-archive) or index.json (OCI); ` +
      'a filesystem tar such as docker export writes has no image metadata',
  );
}

async function layoutTree(dir: string): Promise<FileTree> {
  const st = await fs.promises.stat(dir).catch(() => undefined);
  if (!st) throw new LayerflatError('NOT_FOUND', `OCI layout ${dir} does not exist`);
  if (!st.isDirectory()) {
    const hint = `for an archive use oci-archive:${dir}`;
    throw new LayerflatError('BAD_REFERENCE', `${dir} is a file, not an OCI layout directory; ${hint}`);
  }
  return directoryTree(dir);
}

async function archiveTree(file: string, format: Format): Promise<FileTree> {
  const st = await fs.promises.stat(file).catch(() => undefined);
  if (st?.isDirectory()) {
    const hint = fs.existsSync(path.join(file, 'oci-layout')) ? `; for an OCI layout use oci:${file}` : '';
    throw new LayerflatError('BAD_REFERENCE', `${file} is a directory, not a ${format} file${hint}`);
  }
  return tarFileTree(file);
}

/** The name the output gets in a layout or oci-archive: the destination's :REF, else the first tag. */
function refNameFor(ref: ImageReference, image: OutputImage): string | undefined {
  return ref.ref ?? image.tags[0];
}

const fileSink = (format: 'docker-archive' | 'oci-archive'): Sink => ({
  defaultCompression: format === 'docker-archive' ? 'none' : 'gzip',
  async prepare(ref, options) {
    return { exists: await checkFileDest(ref.path, options.force), wantsLayerSizes: false };
  },
  async write(ref, image, options) {
    const staged = await stageFile(ref.path, options.force);
    const refName = refNameFor(ref, image);
    const repoTags = format === 'docker-archive' ? repoTagsFor(ref.ref, image.tags) : [];
    const build = async (file: string): Promise<WriteResult> => {
      const { result, size } = await TarFileWriter.write(file, (writer) =>
        format === 'docker-archive'
          ? writeDockerArchive(writer, image, repoTags, options.compression)
          : writeOciArchive(writer, image, options.compression, refName),
      );
      return { ...result, bytesWritten: size };
    };
    const named = format === 'oci-archive' && refName !== undefined ? { ref: refName } : {};
    const stagedRef: ImageReference = { transport: format, path: staged.temp, ...named };
    const { beforeCommit } = options;
    return commitWhenBuilt(staged, build, beforeCommit && (() => beforeCommit(stagedRef)));
  },
});

/** oci: — a new layout at DEST, or the image added to the layout already there. */
const layoutSink: Sink = {
  defaultCompression: 'gzip',
  async prepare(ref, options) {
    if (isLayout(ref.path)) {
      // fail before writing gigabytes; an image --force will replace counts as something there
      const replaces = await checkRefFree(ref.path, ref.ref, options.force);
      await checkWritableDir(ref.path, ref.path);
      return { exists: replaces, wantsLayerSizes: false };
    }
    try {
      await checkDirectoryDest(ref.path);
    } catch (err) {
      if (!layoutAppeared(err, ref.path)) throw err;
      return { exists: await checkRefFree(ref.path, ref.ref, options.force), wantsLayerSizes: false };
    }
    return { exists: false, wantsLayerSizes: false };
  },
  async write(ref, image, options) {
    const refName = refNameFor(ref, image);
    const stagedRef = (dir: string): ImageReference => ({
      transport: 'oci',
      path: dir,
      ...(refName ? { ref: refName } : {}),
    });
    const build = (dir: string) => writeLayoutDirectory(dir, image, options.compression, refName);
    const check = (dir: string) => (options.beforeCommit ? options.beforeCommit(stagedRef(dir)) : Promise.resolve());
    const join = () => addToLayout(ref.path, refName, options.force, build, check);
    if (isLayout(ref.path)) return join();
    const staged = await stageDirectory(ref.path).catch((err: unknown) => {
      if (layoutAppeared(err, ref.path)) return undefined;
      throw err;
    });
    if (!staged) return join();
    try {
      const built = await build(staged.temp);
      await check(staged.temp);
      await staged.commit().catch(async (err: unknown) => {
        if (!layoutAppeared(err, ref.path)) throw err;
        await mergeIntoLayout(staged.temp, ref.path, built.entry, refName, options.force);
      });
      return built.result;
    } finally {
      await staged.discard().catch(() => undefined); // nothing is there once committed
    }
  },
};

/**
 * Whether a new layout at `dir` was refused because another writer put a layout there meanwhile
 * (writers started side by side): then it is joined instead. Checked at each step that can see it.
 */
function layoutAppeared(err: unknown, dir: string): boolean {
  return err instanceof LayerflatError && err.code === 'DEST_EXISTS' && isLayout(dir);
}

function isLayout(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'oci-layout')) && fs.statSync(dir).isDirectory();
}

/** Sources and sinks at a path, by format; a bare path is read as what it holds, written as a docker-archive. */
export const pathSource: Source = { open };
export const pathSinks: Readonly<Record<Format, Sink>> = {
  'docker-archive': fileSink('docker-archive'),
  'oci-archive': fileSink('oci-archive'),
  oci: layoutSink,
};
