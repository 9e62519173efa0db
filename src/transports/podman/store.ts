/**
 * podman's storage as an EngineStore for `layerflat reclaim`, through commands podman 1.6.4 (RHEL 7)
 * and 4.x both have: `images -q --no-trunc`, `image inspect`, `ps -a -q --no-trunc`,
 * `container inspect`, `tag`, `rmi` (of a name, on an image with other names, it only removes
 * that name; of an ID, without -f, podman refuses while a container uses it), `info`, and
 * `unshare du` to measure the storage as the user's namespace sees it.
 */
import type { EngineStore, StoredContainer } from '../types.js';
import { freeBytes } from '../../fsio/free-space.js';
import { parseContainers, parseGraphRoot, parseIdList, parseStoredImages } from './store-output.js';
import { podman, runPodman } from './run.js';

const LABEL = 'podman storage';

export function podmanStore(program = 'podman'): EngineStore {
  const run = (args: string[]) => podman(program, args, LABEL);
  let root: Promise<string> | undefined;
  const graphRoot = () => (root ??= run(['info', '--format', 'json']).then(parseGraphRoot));
  return {
    engine: 'podman',
    identity: async () => `podman:${await graphRoot()}`,
    storageDir: graphRoot,
    async images() {
      const ids = parseIdList(await run(['images', '-q', '--no-trunc']));
      if (ids.length === 0) return [];
      return parseStoredImages(await run(['image', 'inspect', ...ids])).filter((i) => i.layers.length > 0);
    },
    async image(idOrName) {
      const r = await runPodman(program, ['image', 'inspect', idOrName]);
      if (r.code !== 0) return undefined;
      return parseStoredImages(r.stdout)[0];
    },
    async containers(): Promise<StoredContainer[]> {
      const ids = parseIdList(await run(['ps', '-a', '-q', '--no-trunc']));
      if (ids.length === 0) return [];
      return parseContainers(await run(['container', 'inspect', ...ids]));
    },
    tag: async (id, name) => void (await run(['tag', id, name])),
    untag: async (name) => void (await run(['rmi', name])),
    remove: async (id) => void (await run(['rmi', id])),
    reference: (idOrName) => `containers-storage:${idOrName}`,
    freeBytes,
    async usage() {
      const dir = await graphRoot();
      // rootless, the layers' files belong to the user's subordinate IDs: du sees them all from inside
      const du = ['-s', '-B1', dir];
      const rootless = process.getuid?.() !== 0;
      const r = await (rootless ? runPodman(program, ['unshare', 'du', ...du]) : runPodman('du', du)).catch(
        () => undefined,
      );
      const bytes = r?.code === 0 ? Number(/^(\d+)\s/.exec(r.stdout)?.[1]) : NaN;
      if (Number.isSafeInteger(bytes)) return { bytes, method: `du -s of ${dir}` };
      const images = await this.images();
      return { bytes: images.reduce((s, i) => s + i.size, 0), method: "sum of podman's image sizes" };
    },
  };
}
