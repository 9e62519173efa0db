/**
 * `docker-daemon:NAME[:TAG]` as a destination: the flat docker-archive loaded with POST
 * /images/load, tagged NAME[:TAG] (its manifest's RepoTags, as the file sink writes them).
 *
 * A user's image is never retagged by an unchecked replacement: when the tag already names an
 * image (that needs --force, as an existing file does) or --verify is given, the archive is
 * built in a private directory of --tmp-dir (as much space as the flat archive), verified, and
 * only then streamed to the daemon. Otherwise an uncompressed archive streams straight into the
 * load with no temporary file (the flat layer's size comes from a planning pass first); a
 * compressed one is built in --tmp-dir first, as its layer's size is known only once written.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { LayerflatError } from '../../errors.js';
import type { OutputImage, WriteResult } from '../../image/types.js';
import { repoTagsFor } from '../../formats/docker-archive/manifest.js';
import { plannedSizes, streamDockerArchive, writeDockerArchive } from '../../formats/docker-archive/write.js';
import { withArchiveInPrivateDir } from '../../fsio/spool.js';
import type { Sink, SinkOptions } from '../types.js';
import { parseDockerHost } from './address.js';
import { DaemonClient } from './client.js';
import { loadArchive } from './load.js';

/** The parts of GET /images/{name}/json layerflat reads. */
interface ImageSummary {
  Id?: unknown;
  RootFS?: { Layers?: unknown };
}

async function inspectImage(client: DaemonClient, name: string, what: string): Promise<ImageSummary | undefined> {
  return (await client.getJSON(`/images/${name}/json`, what)) as ImageSummary | undefined;
}

/** The tags among `tags` that already name an image in the daemon, with that image's ID. */
async function existingTags(client: DaemonClient, tags: string[], what: string): Promise<string[]> {
  const found: string[] = [];
  for (const tag of tags) {
    const image = await inspectImage(client, tag, what);
    if (image) found.push(`${tag} (${typeof image.Id === 'string' ? image.Id.slice(0, 19) : 'an image'})`);
  }
  return found;
}

export const daemonSink: Sink = {
  defaultCompression: 'none',
  async prepare(ref, intent) {
    const client = new DaemonClient(parseDockerHost(intent.dockerHost));
    const what = `docker-daemon:${ref.path}`;
    const existing = await existingTags(client, repoTagsFor(ref.path, []), what);
    if (existing.length > 0 && !intent.force) {
      throw new LayerflatError(
        'DEST_EXISTS',
        `${what}: the Docker daemon already has ${existing.join(', ')}; ` +
          'pass --force to retag it to the flat image once that is verified',
      );
    }
    const exists = existing.length > 0;
    return { exists, wantsLayerSizes: intent.compression === 'none' && !intent.verify && !exists };
  },
  async write(ref, image, options) {
    const client = new DaemonClient(parseDockerHost(options.dockerHost));
    const what = `docker-daemon:${ref.path}`;
    const repoTags = repoTagsFor(ref.path, image.tags);
    const sizes = plannedSizes(image, options.compression);
    let written: WriteResult;
    if (!options.beforeCommit && sizes && options.compression === 'none') {
      // prepare found the tag free; one made since must not be replaced unchecked either
      const existing = await existingTags(client, repoTags, what);
      if (existing.length > 0) {
        throw new LayerflatError('DEST_EXISTS', `${what}: ${existing.join(', ')} appeared while flattening; run again`);
      }
      written = await loadArchive(client, what, (body) =>
        streamDockerArchive(body, image, sizes, repoTags, options.compression),
      );
    } else {
      written = await buildThenLoad(client, what, image, repoTags, options);
    }
    await checkLoaded(client, what, repoTags, written);
    return written;
  },
};

/** Build the archive in a private directory of --tmp-dir, check it (--verify), then load it. */
async function buildThenLoad(
  client: DaemonClient,
  what: string,
  image: OutputImage,
  repoTags: string[],
  options: SinkOptions,
): Promise<WriteResult> {
  const { result, size } = await withArchiveInPrivateDir(
    options.tmpDir,
    (writer) => writeDockerArchive(writer, image, repoTags, options.compression),
    async (file) => {
      if (options.beforeCommit) await options.beforeCommit({ transport: 'docker-archive', path: file });
      await loadArchive(client, what, (body) => pipeline(fs.createReadStream(file), body));
    },
  );
  return { ...result, bytesWritten: size };
}

/** Every tag must now name an image with the flat image's layers (the daemon could have said nothing). */
async function checkLoaded(
  client: DaemonClient,
  what: string,
  repoTags: string[],
  written: WriteResult,
): Promise<void> {
  const want = written.layers.map((l) => String(l.diffId));
  for (const tag of repoTags) {
    const layers = (await inspectImage(client, tag, what))?.RootFS?.Layers;
    if (!Array.isArray(layers) || layers.join() !== want.join()) {
      throw new LayerflatError(
        'IO',
        `${what}: the Docker daemon at ${client.address.text} took the load, but ${tag} does not name the flat image`,
      );
    }
  }
}
