/**
 * Reading what podman prints for reclaim, pure: ID lists, `image inspect` and `container inspect`
 * JSON arrays, `info --format json` (podman 1.6.4 writes store.GraphRoot, 4.x store.graphRoot).
 */
import { LayerflatError } from '../../errors.js';
import type { StoredContainer, StoredImage } from '../types.js';

function parseArray(stdout: string, what: string): Record<string, unknown>[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  if (!Array.isArray(json)) throw new LayerflatError('ENGINE_FAILED', `podman ${what}: output is not a JSON array`);
  return json.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** IDs one a line, "sha256:" or not, each once, in order. */
export function parseIdList(stdout: string): string[] {
  const ids = stdout
    .split('\n')
    .map((l) => l.trim().replace(/^sha256:/, ''))
    .filter((l) => /^[a-f0-9]{64}$/.test(l));
  return [...new Set(ids)];
}

/** `podman image inspect ID…`. */
export function parseStoredImages(stdout: string): StoredImage[] {
  return parseArray(stdout, 'image inspect').map((o) => {
    const id = o['Id'];
    const size = o['Size'];
    if (typeof id !== 'string' || !/^[a-f0-9]{64}$/.test(id) || typeof size !== 'number') {
      throw new LayerflatError('ENGINE_FAILED', 'podman image inspect: an image without an Id and Size');
    }
    const rootfs = o['RootFS'] as Record<string, unknown> | undefined;
    return { id, names: strings(o['RepoTags']), layers: strings(rootfs?.['Layers']), size, config: o['Config'] ?? {} };
  });
}

/** `podman container inspect ID…`: each container's ID, name and image ID. */
export function parseContainers(stdout: string): StoredContainer[] {
  return parseArray(stdout, 'container inspect').flatMap((o) => {
    const [id, name, image] = [o['Id'], o['Name'], o['Image']];
    if (typeof id !== 'string' || typeof image !== 'string') return [];
    return [{ id, name: typeof name === 'string' ? name : id.slice(0, 12), imageId: image.replace(/^sha256:/, '') }];
  });
}

/** The graph root of `podman info --format json`. */
export function parseGraphRoot(stdout: string): string {
  let store: Record<string, unknown> | undefined;
  try {
    store = (JSON.parse(stdout) as Record<string, Record<string, unknown> | undefined>)['store'];
  } catch {
    store = undefined;
  }
  const root = store?.['graphRoot'] ?? store?.['GraphRoot'];
  if (typeof root !== 'string' || root === '') {
    throw new LayerflatError('ENGINE_FAILED', 'podman info: no store graph root in its output');
  }
  return root;
}
