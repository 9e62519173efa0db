/**
 * docker-archive: what `docker save` and `podman save` write, read in place. Every layout is
 * read: classic (manifest.json, `<id>/layer.tar` or podman's `<hex>.tar`, repositories), Docker
 * >= 25 (an OCI layout inside, manifest.json naming `blobs/sha256/<hex>`), and Docker 28/29's
 * containerd store (gzip layers, a nested index, no repositories; without manifest.json the OCI
 * index is used). Written archives use the classic layout that every `docker load` (20.10 on)
 * and `podman load` read.
 */
import type { Writable } from 'node:stream';
import { LayerflatError } from '../errors.js';
import { withDiffIds, serializeConfig } from '../image/config.js';
import { sha256Digest, sha256Hex } from '../image/digest.js';
import { parseConfig, parseJSONBytes } from '../image/manifest.js';
import type { Image, Layer, OutputImage, WriteResult } from '../image/types.js';
import { pipeVerified } from '../formats/oci/blob-store.js';
import {
  digestHexOfName,
  parseDockerManifest,
  repoTagsFor,
  selectDockerEntry,
  type DockerArchiveEntry,
} from '../formats/docker-archive/manifest.js';
import { writeArchive, writeFileOutput } from '../fsio/file-output.js';
import { tarFileTree, type FileTree } from '../formats/file-tree.js';
import { writeOutputLayer, type WrittenLayer } from '../formats/layer-output.js';
import { readOciImage } from '../formats/oci/read.js';
import type { TarFileWriter } from '../tar/archive-file-writer.js';
import { TarStreamWriter } from '../tar/archive-stream-writer.js';
import { describeReference } from './reference.js';
import type { ImageReference, OpenedImage, Sink, SinkOptions, Source, SourceOptions } from './types.js';

function layerOf(tree: FileTree, name: string, diffId: string, i: number): Layer {
  const where = `${tree.where}: layer ${i} (${name})`;
  if (!tree.has(name))
    throw new LayerflatError('NOT_FOUND', `${tree.where}: layer ${name} named by manifest.json is missing`);
  // Docker >= 25 names layers by digest, so they can be checked as they stream; older names cannot.
  const hex = /^(?:\.\/)?blobs\/sha256\/([a-f0-9]{64})$/.exec(name)?.[1];
  const size = tree.size(name);
  const location = tree.locate(name);
  if (hex === undefined) return { diffId, size, location, open: async () => tree.open(name) };
  const digest = `sha256:${hex}`;
  return { digest, diffId, size, location, open: async () => pipeVerified(tree.open(name), { digest, size }, where) };
}

async function readConfig(tree: FileTree, entry: DockerArchiveEntry) {
  if (!tree.has(entry.config))
    throw new LayerflatError('NOT_FOUND', `${tree.where}: config ${entry.config} named by manifest.json is missing`);
  const bytes = await tree.read(entry.config);
  const where = `${tree.where}: ${entry.config}`;
  const expected = digestHexOfName(entry.config);
  if (expected !== undefined && sha256Hex(bytes) !== expected) {
    throw new LayerflatError(
      'DIGEST_MISMATCH',
      `${where}: content hashes to sha256:${sha256Hex(bytes)}, not the ID its name gives`,
    );
  }
  return parseConfig(parseJSONBytes(bytes, where), where);
}

/** Read the image REF selects through manifest.json. */
async function readClassic(tree: FileTree, ref: ImageReference): Promise<Image> {
  const entries = parseDockerManifest(await tree.readJSON('manifest.json'), `${tree.where}: manifest.json`);
  const idOf = async (i: number) =>
    digestHexOfName(entries[i]!.config) ?? sha256Hex(await tree.read(entries[i]!.config));
  const chosen = await selectDockerEntry(entries, ref.ref, tree.where, idOf);
  const entry = entries[chosen]!;
  const config = await readConfig(tree, entry);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== entry.layers.length) {
    throw new LayerflatError(
      'BAD_MANIFEST',
      `${tree.where}: image @${chosen} has ${entry.layers.length} layers but its config lists ${diffIds.length} diff_ids`,
    );
  }
  const layers = entry.layers.map((name, i) => layerOf(tree, name, diffIds[i]!, i));
  const origin = describeReference(ref) + (ref.ref === undefined && entries.length > 1 ? ` image @${chosen}` : '');
  return { config, layers, tags: entry.repoTags, origin };
}

async function open(ref: ImageReference, options: SourceOptions): Promise<OpenedImage> {
  const tree = await tarFileTree(ref.path);
  let image: Image;
  if (tree.has('manifest.json')) image = await readClassic(tree, ref);
  else if (tree.has('index.json')) {
    const platform = options.platform ? { platform: options.platform } : {};
    image = await readOciImage(tree, {
      ...(ref.ref !== undefined ? { ref: ref.ref } : {}),
      ...platform,
      requireLayoutFile: false,
      origin: describeReference(ref),
    });
  } else
    throw new LayerflatError('BAD_MANIFEST', `${ref.path}: not a docker-archive (no manifest.json, no index.json)`);
  return { image, close: async () => undefined };
}

const hexOf = (digest: string) => digest.slice('sha256:'.length);

/** Layers (each stored once, as "<digest hex>.tar"), then the config, then manifest.json. */
async function fill(
  writer: TarFileWriter,
  image: OutputImage,
  repoTags: string[],
  options: SinkOptions,
): Promise<WriteResult> {
  const layers: WrittenLayer[] = [];
  const seen = new Set<string>();
  for (const layer of image.layers) {
    const produce = (consume: Parameters<typeof writeOutputLayer>[2]) =>
      writeOutputLayer(layer, options.compression, consume);
    const name = (w: WrittenLayer) => (seen.has(w.digest) ? undefined : (seen.add(w.digest), `${hexOf(w.digest)}.tar`));
    layers.push(await writer.addStreamed(produce, name));
  }
  return addConfigAndManifest(
    writer,
    image,
    repoTags,
    layers,
    layers.map((l) => `${hexOf(l.digest)}.tar`),
  );
}

/** The config (its diff_ids now known) and manifest.json, after the layers. */
async function addConfigAndManifest(
  writer: Pick<TarFileWriter, 'addFile'>,
  image: OutputImage,
  repoTags: string[],
  layers: WrittenLayer[],
  layerNames: string[],
): Promise<WriteResult> {
  const configBytes = serializeConfig(
    withDiffIds(
      image.config,
      layers.map((l) => l.diffId),
    ),
  );
  const configHex = sha256Hex(configBytes);
  await writer.addFile(`${configHex}.json`, configBytes);
  const manifest = Buffer.from(
    JSON.stringify([{ Config: `${configHex}.json`, RepoTags: repoTags, Layers: layerNames }]),
  );
  await writer.addFile('manifest.json', manifest);
  return { manifestDigest: sha256Digest(manifest), configDigest: `sha256:${configHex}`, layers, bytesWritten: 0 };
}

/** Every layer's stored size, when all are known before writing (then stdout needs no spool). */
function plannedSizes(image: OutputImage, options: SinkOptions): number[] | undefined {
  const sizes = image.layers.map((l) =>
    l.kind === 'copy' ? l.layer.size : options.compression === 'none' ? l.size : undefined,
  );
  return sizes.every((s) => s !== undefined) ? (sizes as number[]) : undefined;
}

/**
 * Stream the archive to `out` as it is made. Members must be named before their bytes, so layers
 * are "<n>/layer.tar" (as classic `docker save` names them) rather than named by digest.
 */
async function streamArchive(
  out: Writable,
  image: OutputImage,
  sizes: number[],
  repoTags: string[],
  options: SinkOptions,
): Promise<WriteResult> {
  const writer = new TarStreamWriter(out);
  const layers: WrittenLayer[] = [];
  for (const [i, layer] of image.layers.entries()) {
    layers.push(
      await writer.addSized(`${i}/layer.tar`, sizes[i]!, (consume) =>
        writeOutputLayer(layer, options.compression, consume),
      ),
    );
  }
  const result = await addConfigAndManifest(
    writer,
    image,
    repoTags,
    layers,
    layers.map((_, i) => `${i}/layer.tar`),
  );
  return { ...result, bytesWritten: await writer.finish() };
}

/**
 * Write `image` as a classic docker-archive at `ref.path` ("-": stdout). RepoTags are the
 * destination's :REF (":latest" added when it has no tag), else the image's tags that are full
 * names. WriteResult.manifestDigest is the digest of the manifest.json written (an archive has
 * no registry manifest); configDigest is the image ID.
 */
async function write(ref: ImageReference, image: OutputImage, options: SinkOptions): Promise<WriteResult> {
  const repoTags = repoTagsFor(ref.ref, image.tags);
  const sizes = plannedSizes(image, options);
  if (ref.path === '-' && !options.beforeCommit && sizes)
    return streamArchive(process.stdout, image, sizes, repoTags, options);
  const build = async (file: string) => {
    const { result, size } = await writeArchive(file, (writer) => fill(writer, image, repoTags, options));
    return { ...result, bytesWritten: size };
  };
  return writeFileOutput(ref, options, build, (file) => ({ transport: 'docker-archive', path: file }));
}

/**
 * The docker-archive transport. Default compression 'none': users load these archives into
 * engines whose storage (VFS, the classic overlay2 store) keeps only the unpacked tree, so
 * compressing costs CPU and saves nothing there — and speed is the point. Users of Docker 29's
 * containerd store, which keeps the blob too, should pass --compress gzip.
 */
export const dockerArchive: Source & Sink = { defaultCompression: 'none', streamsPlannedLayers: true, open, write };
