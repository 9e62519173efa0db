/**
 * "-": an image read from stdin or written to stdout — the streams the caller passes in (the CLI
 * passes the process's own); the library never reaches for them itself.
 *
 * stdin is spooled once into --tmp-dir, since every archive format needs random access, and the
 * spool is removed when the image is closed. stdout gets an uncompressed docker-archive as it is
 * made when every layer's size is known first (the flat layer's from a planning pass), with no
 * temporary file; anything else is built in --tmp-dir, checked, then copied out. A failure after
 * bytes went out leaves the stream without its end-of-archive blocks: no reader takes it as whole.
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { asLayerflatError, LayerflatError } from '../errors.js';
import type { OutputImage, WriteResult } from '../image/types.js';
import { detectFormat } from '../formats/detect.js';
import { readDockerArchive } from '../formats/docker-archive/read.js';
import { repoTagsFor } from '../formats/docker-archive/manifest.js';
import { plannedSizes, streamDockerArchive, writeDockerArchive } from '../formats/docker-archive/write.js';
import { readOciImage } from '../formats/oci/read.js';
import { writeOciArchive } from '../formats/oci/layout.js';
import { spoolToFile, withArchiveInPrivateDir } from '../fsio/spool.js';
import type { ImageReference, OpenedImage, Sink, SinkOptions, Source, SourceOptions } from './types.js';

async function open(ref: ImageReference, options: SourceOptions): Promise<OpenedImage> {
  if (!options.stdin) throw new LayerflatError('USAGE', 'the source is "-" but no stdin was given to read');
  const spooled = await spoolToFile(options.stdin, options.tmpDir);
  try {
    const found = await detectFormat(spooled.path, 'stdin');
    if (found.format === 'compressed') {
      throw new LayerflatError(
        'NOT_A_TAR',
        `stdin is ${found.compression}-compressed; decompress it in the pipe first`,
      );
    }
    if (found.format === 'filesystem' || found.format === 'oci') {
      throw new LayerflatError('BAD_MANIFEST', 'stdin is a tar archive but no image: no manifest.json or index.json');
    }
    const format = ref.format ?? found.format;
    const origin = `stdin (${format}${ref.ref !== undefined ? `:${ref.ref}` : ''})`;
    const read = { ref: ref.ref, platform: options.platform, origin };
    if (format === 'oci-archive' && !found.tree.has('index.json')) {
      throw new LayerflatError('BAD_MANIFEST', 'stdin: not an OCI archive (no index.json)');
    }
    const image =
      format === 'docker-archive'
        ? await readDockerArchive(found.tree, read)
        : await readOciImage(found.tree, { ...read, requireLayoutFile: false });
    return { image, close: () => spooled.remove() };
  } catch (err) {
    await spooled.remove();
    throw err;
  }
}

const stdoutSink = (format: 'docker-archive' | 'oci-archive'): Sink => ({
  defaultCompression: format === 'docker-archive' ? 'none' : 'gzip',
  async prepare(_ref, intent) {
    const streams = format === 'docker-archive' && intent.compression === 'none' && !intent.verify;
    return { exists: false, wantsLayerSizes: streams };
  },
  async write(ref, image, options) {
    const out = options.stdout;
    if (!out) throw new LayerflatError('USAGE', 'the destination is "-" but no stdout was given to write to');
    return guarded(out, async () => {
      const repoTags = format === 'docker-archive' ? repoTagsFor(ref.ref, image.tags) : [];
      const sizes = plannedSizes(image, options.compression);
      if (format === 'docker-archive' && !options.beforeCommit && sizes) {
        return streamDockerArchive(out, image, sizes, repoTags, options.compression);
      }
      return buildThenCopy(out, ref, image, repoTags, format, options);
    });
  },
});

/**
 * Build the archive in a private directory of --tmp-dir — a tar member's size must precede its
 * bytes, and a compressed layer's is known only once it is written — check it, copy it out.
 */
async function buildThenCopy(
  out: Writable,
  ref: ImageReference,
  image: OutputImage,
  repoTags: string[],
  format: 'docker-archive' | 'oci-archive',
  options: SinkOptions,
): Promise<WriteResult> {
  const refName = ref.ref ?? image.tags[0];
  const named = format === 'oci-archive' && refName !== undefined ? { ref: refName } : {};
  const { result, size } = await withArchiveInPrivateDir(
    options.tmpDir,
    (writer) =>
      format === 'docker-archive'
        ? writeDockerArchive(writer, image, repoTags, options.compression)
        : writeOciArchive(writer, image, options.compression, refName),
    async (file) => {
      if (options.beforeCommit) await options.beforeCommit({ transport: format, path: file, ...named });
      await pipeline(fs.createReadStream(file), out, { end: false });
    },
  );
  return { ...result, bytesWritten: size };
}

/**
 * Run `work` writing to `out` with its 'error' events caught (a reader that quits — `| head`, a
 * failed `docker load` — makes stdout emit EPIPE, which unheard would crash the process): the
 * first one fails the write as one IO error naming stdout.
 */
async function guarded<T>(out: Writable, work: () => Promise<T>): Promise<T> {
  let failure: unknown;
  const onError = (err: unknown) => void (failure ??= err);
  out.on('error', onError);
  try {
    const result = await work();
    if (failure !== undefined) throw failure;
    return result;
  } catch (err) {
    throw failure !== undefined ? asLayerflatError(failure, 'stdout') : err;
  } finally {
    out.off('error', onError);
  }
}

export const stdioSource: Source = { open };
export const stdioSinks: Readonly<Record<'docker-archive' | 'oci-archive', Sink>> = {
  'docker-archive': stdoutSink('docker-archive'),
  'oci-archive': stdoutSink('oci-archive'),
};
