/**
 * An image in podman's storage as a Source: `podman save --format docker-archive -o FILE` into a
 * private directory of --tmp-dir, read by the docker-archive reader with all its digest checks,
 * and removed on close (and by the CLI's signal handler, through the cleanup registry).
 *
 * Why save rather than read the VFS layer directory in place (docs/benchmarks.md, "Podman source"):
 * a directory has no layer digests to check and its xattrs and file capabilities would need
 * external tools inside `podman unshare`; a save costs one archive of temporary space and is what
 * podman 1.6.4 (no REST API, no `image mount` rootless) offers on every host.
 *
 * The file is written by podman itself (`-o`, never a redirect of its stdout: podman opens
 * /dev/stdout by name, which fails under `su - USER` with a stdout owned by root).
 */
import path from 'node:path';
import { LayerflatError } from '../../errors.js';
import { readDockerArchive } from '../../formats/docker-archive/read.js';
import { tarFileTree } from '../../formats/file-tree.js';
import { removeTemp } from '../../fsio/cleanup.js';
import { makePrivateTempDir } from '../../fsio/spool.js';
import type { ImageReference, OpenedImage, Source, SourceOptions } from '../types.js';
import { freeBytes } from '../../fsio/free-space.js';
import { parseInspect, type InspectedImage } from './output.js';
import { podman } from './run.js';

/** Room for what an archive adds to its layers: tar headers, config, manifest.json. */
const ARCHIVE_SLACK = 1 << 20;

/** `podman image inspect NAME`: the image's ID and size; NOT_FOUND when podman has no such image. */
export async function inspectImage(program: string, name: string, label: string): Promise<InspectedImage> {
  return parseInspect(await podman(program, ['image', 'inspect', name], label), name);
}

/** "4.21 GB (4212345678 bytes)". */
export function bytesLabel(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) [v, u] = [v / 1000, u + 1];
  return u === 0 ? `${n} bytes` : `${v.toFixed(2)} ${units[u]!} (${n} bytes)`;
}

/** Fail before saving when the temporary directory cannot hold the image's archive. */
async function checkRoom(dir: string, parent: string, image: InspectedImage, label: string): Promise<void> {
  const free = await freeBytes(dir);
  const needed = image.size + ARCHIVE_SLACK;
  if (free === undefined || free >= needed) return;
  throw new LayerflatError(
    'IO',
    `${label}: podman save needs about ${bytesLabel(needed)} in ${parent}, which has ${bytesLabel(free)} free; ` +
      'pass --tmp-dir DIR on a filesystem with room for one archive of the image',
    { located: true },
  );
}

async function open(ref: ImageReference, options: SourceOptions): Promise<OpenedImage> {
  const program = options.podman ?? 'podman';
  const label = `containers-storage:${ref.path}`;
  const image = await inspectImage(program, ref.path, label);
  const dir = await makePrivateTempDir(options.tmpDir, 'spool');
  const close = () => removeTemp(dir);
  try {
    await checkRoom(dir, path.dirname(dir), image, label);
    const file = path.join(dir, 'image.tar');
    await podman(program, ['save', '--format', 'docker-archive', '-o', file, ref.path], label);
    const tree = await tarFileTree(file, `${label} (saved to ${file})`);
    return { image: await readDockerArchive(tree, { origin: label }), close };
  } catch (err) {
    await close();
    throw err;
  }
}

export const podmanSource: Source = { open };
