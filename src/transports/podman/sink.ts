/**
 * podman's storage as a Sink: the flat docker-archive is built in a private directory of
 * --tmp-dir, checked when asked (and always when a name it is to get is already taken: a user's
 * image never loses its name to an unchecked replacement), then `podman load -i FILE`d and
 * `podman tag`ged with every name. The archive is removed afterwards, loaded or not.
 *
 * The old image a name moves away from is kept (podman shows it untagged if that was its only
 * name): layerflat never removes a user's image.
 */
import { LayerflatError } from '../../errors.js';
import { writeDockerArchive } from '../../formats/docker-archive/write.js';
import { withArchiveInPrivateDir } from '../../fsio/spool.js';
import { hasExplicitTag } from '../../image/name.js';
import type { WriteResult } from '../../image/types.js';
import type { Sink } from '../types.js';
import { parseLoaded } from './output.js';
import { podman, runPodman } from './run.js';
import { inspectImage } from './source.js';

/** Every name the flat image gets: DEST's, then the -t ones, each with a tag, once. */
export function targetNames(dest: string, tags: readonly string[] = []): string[] {
  return [...new Set([dest, ...tags].map((n) => (hasExplicitTag(n) ? n : `${n}:latest`)))];
}

/** The names of `names` that already name an image in podman's storage. */
async function takenNames(program: string, names: readonly string[], label: string): Promise<string[]> {
  const taken: string[] = [];
  for (const name of names) {
    const run = await runPodman(program, ['image', 'exists', name]);
    if (run.code === 0) taken.push(name);
    else if (run.code !== 1) await podman(program, ['image', 'exists', name], label); // throws its error
  }
  return taken;
}

export const podmanSink: Sink = {
  defaultCompression: 'none', // VFS keeps only the unpacked tree: compressing costs time, saves nothing
  async prepare(ref, intent) {
    const label = `containers-storage:${ref.path}`;
    const taken = await takenNames(intent.podman ?? 'podman', targetNames(ref.path, intent.tags), label);
    if (taken.length > 0 && !intent.force) {
      throw new LayerflatError(
        'DEST_EXISTS',
        `${label}: podman already has ${taken.join(', ')}; pass --force to move the name(s) to the flat ` +
          'image once it is verified (the old image is kept)',
      );
    }
    return { exists: taken.length > 0, wantsLayerSizes: false };
  },
  async write(ref, image, options) {
    const program = options.podman ?? 'podman';
    const label = `containers-storage:${ref.path}`;
    const names = targetNames(ref.path, options.tags);
    const { result, size } = await withArchiveInPrivateDir(
      options.tmpDir,
      (writer) => writeDockerArchive(writer, image, names, options.compression),
      async (file, written) => {
        if (options.beforeCommit) await options.beforeCommit({ transport: 'docker-archive', path: file });
        await load(program, file, written, names, label);
      },
    );
    return { ...result, bytesWritten: size, names };
  },
};

/**
 * `podman load` the archive, make sure the image it holds is now in the storage (its ID is its
 * config's digest), and give it every name — `load` alone names it after the archive's RepoTags,
 * but `tag` makes the names certain on every podman version.
 */
async function load(program: string, file: string, written: WriteResult, names: string[], label: string) {
  const said = parseLoaded(await podman(program, ['load', '-q', '-i', file], label));
  const id = written.configDigest.hex;
  const loaded = await inspectImage(program, id, label).catch((err: unknown) => {
    const what = said.length > 0 ? said.join(', ') : 'nothing it named';
    throw new LayerflatError('ENGINE_FAILED', `${label}: podman load reported ${what}, not image ${id}`, {
      cause: err,
    });
  });
  await podman(program, ['tag', loaded.id, ...names], label);
}
