/**
 * The transport registry: turns an ImageReference into the Source that opens it or the Sink that
 * writes it, detecting the format of bare paths and spooling stdin ("-") once to a temporary
 * file, since every archive format needs random access.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { LayerflatError } from '../errors.js';
import { detectCompression } from '../compress/detect.js';
import { dockerArchive } from './docker-archive.js';
import { tarFileTree } from '../formats/file-tree.js';
import { spoolToFile } from '../fsio/spool.js';
import { ociArchive } from './oci-archive.js';
import { ociLayout } from './oci-layout.js';
import type { ImageReference, OpenedImage, Sink, Source, SourceOptions } from './types.js';

export { describeReference, parseReference, SUPPORTED_TRANSPORTS } from './reference.js';
export type { ImageReference, OpenedImage, Sink, SinkOptions, Source, SourceOptions } from './types.js';

const TRANSPORTS: Readonly<Record<string, Source & Sink>> = {
  'docker-archive': dockerArchive,
  oci: ociLayout,
  'oci-archive': ociArchive,
};

function transport(name: string): Source & Sink {
  const t = TRANSPORTS[name];
  if (!t) throw new LayerflatError('BAD_REFERENCE', `unknown transport "${name}"`);
  return t;
}

async function head(file: string): Promise<Buffer> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * The transport a bare path holds: a directory with oci-layout → oci; a tar file with
 * manifest.json → docker-archive; with index.json or oci-layout (and no manifest.json) →
 * oci-archive. Fails with NOT_FOUND, NOT_A_TAR or BAD_MANIFEST saying what the path is instead.
 */
export async function detectTransport(file: string, label = file): Promise<string> {
  const st = await fs.promises.stat(file).catch(() => undefined);
  // What a pipe delivers when the command feeding it (docker save, podman save) failed.
  if (st?.isFile() && st.size === 0)
    throw new LayerflatError('NOT_A_TAR', `${label} is empty: no image archive to read`);
  if (!st) {
    const hint = file.includes(':')
      ? '; to choose an image inside an archive, write docker-archive:PATH:REF (or oci:, oci-archive:)'
      : '';
    throw new LayerflatError('NOT_FOUND', `${file} does not exist${hint}`);
  }
  if (st.isDirectory()) {
    if (fs.existsSync(path.join(file, 'oci-layout'))) return 'oci';
    throw new LayerflatError('BAD_MANIFEST', `${file} is a directory but not an OCI layout (no oci-layout file)`);
  }
  const compression = detectCompression(await head(file));
  if (compression !== 'none') {
    throw new LayerflatError(
      'NOT_A_TAR',
      `${file} is ${compression}-compressed; decompress it first (layerflat reads archives in place, which needs a plain tar)`,
    );
  }
  const tree = await tarFileTree(file);
  if (tree.has('manifest.json')) return 'docker-archive';
  if (tree.has('index.json') || tree.has('oci-layout')) return 'oci-archive';
  throw new LayerflatError(
    'BAD_MANIFEST',
    `${file} is a tar archive but no image: no manifest.json (docker-archive) or index.json (OCI); a filesystem tar such as docker export writes has no image metadata`,
  );
}

async function openSpooled(ref: ImageReference, options: SourceOptions, input: Readable): Promise<OpenedImage> {
  const spooled = await spoolToFile(input, options.tmpDir);
  try {
    const name = ref.transport === 'auto' ? await detectTransport(spooled.path, 'stdin') : ref.transport;
    const opened = await transport(name).open({ ...ref, transport: name, path: spooled.path }, options);
    const origin = `stdin (${name}${ref.ref !== undefined ? `:${ref.ref}` : ''})`;
    return {
      image: { ...opened.image, origin },
      close: async () => {
        await opened.close();
        await spooled.remove();
      },
    };
  } catch (err) {
    await spooled.remove();
    throw err;
  }
}

/**
 * Open the image `ref` names. A bare path's format is detected; "-" reads stdin (`input`),
 * spooled into options.tmpDir and removed again by close(). The caller must call close().
 */
export async function openSource(
  ref: ImageReference,
  options: SourceOptions = {},
  input: Readable = process.stdin,
): Promise<OpenedImage> {
  if (ref.path === '-') return openSpooled(ref, options, input);
  const name = ref.transport === 'auto' ? await detectTransport(ref.path) : ref.transport;
  return transport(name).open({ ...ref, transport: name }, options);
}

/** The sink that writes `ref`: a bare path or "-" (stdout) is a docker-archive. */
export function sinkFor(ref: ImageReference): Sink {
  return transport(ref.transport === 'auto' ? 'docker-archive' : ref.transport);
}
