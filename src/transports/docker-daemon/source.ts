/**
 * `docker-daemon:NAME[:TAG]` / `docker-daemon:ID` as a source: the daemon's `docker save`
 * stream (GET /images/{name}/get) spooled once into --tmp-dir — a docker-archive needs random
 * access, its manifest.json comes last — and read by the same docker-archive reader as a file or
 * stdin, so every layer is checked against its digest in the same way. The spool is removed when
 * the image is closed; it needs as much space as `docker save` of the image writes.
 */
import { LayerflatError } from '../../errors.js';
import { detectFormat } from '../../formats/detect.js';
import { readDockerArchive } from '../../formats/docker-archive/read.js';
import { spoolToFile } from '../../fsio/spool.js';
import type { ImageReference, OpenedImage, Source, SourceOptions } from '../types.js';
import { parseDockerHost } from './address.js';
import { DaemonClient } from './client.js';

async function open(ref: ImageReference, options: SourceOptions): Promise<OpenedImage> {
  const client = new DaemonClient(parseDockerHost(options.dockerHost));
  const name = ref.path;
  const label = `docker-daemon:${name}`;
  // Asked first so a missing image is NOT_FOUND with its name, whatever a save of it would answer.
  if ((await client.getJSON(`/images/${name}/json`, label)) === undefined) {
    throw new LayerflatError(
      'NOT_FOUND',
      `${label}: the Docker daemon at ${client.address.text} has no image "${name}"`,
    );
  }
  const archive = await client.get(`/images/${name}/get`, label);
  const spooled = await spoolToFile(archive, options.tmpDir, 'docker-save.tar', `the daemon's save of ${label}`);
  try {
    const found = await detectFormat(spooled.path, `${label} (docker save)`);
    if (found.format !== 'docker-archive' && found.format !== 'oci-archive') {
      throw new LayerflatError('BAD_MANIFEST', `${label}: the daemon's save is no docker-archive (no manifest.json)`);
    }
    const image = await readDockerArchive(found.tree, { platform: options.platform, origin: label });
    return { image, close: () => spooled.remove() };
  } catch (err) {
    await spooled.remove();
    throw err;
  }
}

export const daemonSource: Source = { open };
