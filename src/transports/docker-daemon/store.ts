/**
 * The Docker daemon's image storage as an EngineStore for `layerflat reclaim`, through the Engine
 * API (the DaemonClient): GET /images/json and /images/{id}/json, GET /containers/json?all=1,
 * POST /images/{id}/tag (a name moves in one step), DELETE /images/{name} (of a name on an image
 * with others: only the name; of an ID without force: refused with 409 while a container uses it),
 * GET /info (DockerRootDir) and GET /system/df.
 */
import { execFile } from 'node:child_process';
import { LayerflatError } from '../../errors.js';
import { freeBytes } from '../../fsio/free-space.js';
import type { EngineStore, StoredContainer, StoredImage } from '../types.js';
import { parseDockerHost } from './address.js';
import { DaemonClient } from './client.js';

const WHAT = 'docker storage';
type Json = Record<string, unknown>;

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s !== '<none>:<none>') : [];
const hex = (id: unknown) => (typeof id === 'string' ? id.replace(/^sha256:/, '') : '');

/** GET /images/{id}/json as a StoredImage. */
export function storedImage(o: Json): StoredImage | undefined {
  const id = hex(o['Id']);
  if (!/^[a-f0-9]{64}$/.test(id) || typeof o['Size'] !== 'number') return undefined;
  const rootfs = o['RootFS'] as Json | undefined;
  return {
    id,
    names: strings(o['RepoTags']),
    layers: strings(rootfs?.['Layers']),
    size: o['Size'],
    config: o['Config'] ?? {},
  };
}

/** GET /containers/json?all=1 as StoredContainers. */
export function storedContainers(list: unknown): StoredContainer[] {
  return (Array.isArray(list) ? (list as Json[]) : []).flatMap((c) => {
    const id = typeof c['Id'] === 'string' ? c['Id'] : '';
    const name = strings(c['Names'])[0]?.replace(/^\//, '') ?? id.slice(0, 12);
    return id ? [{ id, name, imageId: hex(c['ImageID']) }] : [];
  });
}

/** "repo/x:tag" → ["repo/x", "tag"] (":latest" when there is none). */
export function splitName(name: string): [string, string] {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? [name.slice(0, colon), name.slice(colon + 1)] : [name, 'latest'];
}

export function daemonStore(dockerHost: string | undefined): EngineStore {
  const client = new DaemonClient(parseDockerHost(dockerHost));
  const json = async (path: string) => (await client.getJSON(path, WHAT)) as Json | undefined;
  let info: Promise<Json | undefined> | undefined;
  const rootDir = async () => {
    const root = (await (info ??= json('/info')))?.['DockerRootDir'];
    return typeof root === 'string' ? root : undefined;
  };
  /** POST or DELETE `path`, which must answer 2xx. */
  const send = async (method: string, path: string) => {
    const req = client.open(method, path);
    req.body.end();
    const res = await req.response;
    if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) {
      const err = await client.refused(res, `${WHAT}: ${method} ${path.split('?')[0]!}`);
      throw new LayerflatError(res.statusCode === 404 ? 'NOT_FOUND' : 'ENGINE_FAILED', err.message, { located: true });
    }
    res.resume();
  };
  const image = async (idOrName: string) => {
    const o = await json(`/images/${idOrName}/json`);
    return o ? storedImage(o) : undefined;
  };
  return {
    engine: 'docker',
    identity: async () => `docker:${client.address.text}:${(await rootDir()) ?? ''}`,
    storageDir: rootDir,
    async images() {
      const list = await client.getJSON('/images/json', WHAT);
      const ids = [...new Set((Array.isArray(list) ? (list as Json[]) : []).map((i) => hex(i['Id'])))];
      const out: StoredImage[] = [];
      for (const id of ids.filter((i) => i !== '')) {
        const found = await image(id);
        if (found && found.layers.length > 0) out.push(found);
      }
      return out;
    },
    image,
    containers: async () => storedContainers(await client.getJSON('/containers/json?all=1', WHAT)),
    async tag(id, name) {
      const [repo, tag] = splitName(name);
      await send('POST', `/images/${id}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`);
    },
    untag: (name) => send('DELETE', `/images/${name}?noprune=1`),
    remove: (id) => send('DELETE', `/images/${id}`),
    reference: (idOrName) => `docker-daemon:${/^[a-f0-9]{64}$/.test(idOrName) ? `sha256:${idOrName}` : idOrName}`,
    freeBytes,
    async usage() {
      const root = await rootDir();
      const du = root ? await duBytes(root) : undefined;
      if (du !== undefined) return { bytes: du, method: `du -s of ${root!}` };
      const df = await json('/system/df');
      const layers = df?.['LayersSize'];
      return typeof layers === 'number'
        ? { bytes: layers, method: "the daemon's LayersSize (GET /system/df)" }
        : undefined;
    },
  };
}

/** `du -s -B1 DIR` (the daemon's root is readable when we run as root, on the daemon's host). */
function duBytes(dir: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('du', ['-s', '-B1', dir], { windowsHide: true, maxBuffer: 1 << 20 }, (err, stdout) => {
      const n = Number(/^(\d+)\s/.exec(stdout)?.[1]);
      resolve(err || !Number.isSafeInteger(n) ? undefined : n);
    });
  });
}
