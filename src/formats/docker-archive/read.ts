/**
 * Reading a docker-archive — what `docker save` and `podman save` write — from a FileTree over
 * the archive, in place. Every layout is read: classic (manifest.json, `<id>/layer.tar` or
 * podman's `<hex>.tar`, repositories), Docker >= 25 (an OCI layout inside, manifest.json naming
 * `blobs/sha256/<hex>`), and Docker 28/29's containerd store (gzip layers, a nested index, no
 * repositories; without manifest.json the OCI index is used).
 */
import { LayerflatError } from '../../errors.js';
import { Digest } from '../../image/digest.js';
import { parseConfig, parseJSONBytes } from '../../image/manifest.js';
import type { Image, Layer, Platform } from '../../image/types.js';
import { checkBuffer } from '../../bytes/verify.js';
import type { FileTree } from '../file-tree.js';
import { readOciImage } from '../oci/read.js';
import { digestOfName, parseDockerManifest, selectDockerEntry, type DockerArchiveEntry } from './manifest.js';

export interface DockerArchiveReadOptions {
  ref?: string;
  platform?: Platform;
  /** Where the image came from, for Image.origin. */
  origin: string;
}

function layerOf(tree: FileTree, name: string, diffId: string): Layer {
  if (!tree.has(name)) {
    throw new LayerflatError('NOT_FOUND', `${tree.where}: layer ${name} named by manifest.json is missing`);
  }
  // Docker >= 25 names layers by digest, so they can be checked against it; older names cannot
  // (their diff_id still is).
  const digest = Digest.inName(name, /^(?:\.\/)?blobs\/sha256\/([a-f0-9]{64})$/);
  const range = tree.locate(name);
  return { ...(digest ? { digest } : {}), diffId: Digest.parse(diffId), size: range.size, source: { file: range } };
}

async function readConfig(tree: FileTree, entry: DockerArchiveEntry) {
  const where = `${tree.where}: ${entry.config}`;
  if (!tree.has(entry.config)) {
    throw new LayerflatError('NOT_FOUND', `${tree.where}: config ${entry.config} named by manifest.json is missing`);
  }
  const bytes = await tree.read(entry.config);
  const id = digestOfName(entry.config);
  try {
    checkBuffer(bytes, { digest: id }, 'the config (its name is its ID)');
  } catch (err) {
    throw new LayerflatError('DIGEST_MISMATCH', `${where}: ${(err as Error).message}`, { located: true });
  }
  return parseConfig(parseJSONBytes(bytes, where), where);
}

/** Read the image REF selects through manifest.json. */
async function readClassic(tree: FileTree, options: DockerArchiveReadOptions): Promise<Image> {
  const entries = parseDockerManifest(await tree.readJSON('manifest.json'), `${tree.where}: manifest.json`);
  const idOf = async (i: number) => digestOfName(entries[i]!.config) ?? Digest.of(await tree.read(entries[i]!.config));
  const chosen = await selectDockerEntry(entries, options.ref, tree.where, idOf);
  const entry = entries[chosen]!;
  const config = await readConfig(tree, entry);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== entry.layers.length) {
    const what = `image @${chosen} has ${entry.layers.length} layers but its config lists ${diffIds.length} diff_ids`;
    throw new LayerflatError('BAD_MANIFEST', `${tree.where}: ${what}`);
  }
  const layers = entry.layers.map((name, i) => layerOf(tree, name, diffIds[i]!));
  const origin = options.origin + (options.ref === undefined && entries.length > 1 ? ` image @${chosen}` : '');
  return { config, layers, tags: entry.repoTags, origin };
}

/** The image of a docker-archive; BAD_MANIFEST when the tree holds no docker-archive. */
export async function readDockerArchive(tree: FileTree, options: DockerArchiveReadOptions): Promise<Image> {
  if (tree.has('manifest.json')) return readClassic(tree, options);
  if (tree.has('index.json')) return readOciImage(tree, { ...options, requireLayoutFile: false });
  throw new LayerflatError('BAD_MANIFEST', `${tree.where}: not a docker-archive (no manifest.json, no index.json)`);
}
