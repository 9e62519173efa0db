import { describe, expect, it } from 'vitest';
import { splitName, storedContainers, storedImage } from '../../../src/transports/docker-daemon/store.js';

const ID = '4e197630449cb2124c5b2841159cd10efa73a22f9af7b24c3fdcf7fd039363ed';

describe('docker store answers', () => {
  it('reads GET /images/{id}/json: names without <none>, diff_ids, size, Config', () => {
    const o = {
      Id: `sha256:${ID}`,
      RepoTags: ['app:1', '<none>:<none>'],
      RootFS: { Type: 'layers', Layers: ['sha256:1', 'sha256:2'] },
      Size: 42,
      Config: { Cmd: ['x'] },
    };
    expect(storedImage(o)).toEqual({
      id: ID,
      names: ['app:1'],
      layers: ['sha256:1', 'sha256:2'],
      size: 42,
      config: { Cmd: ['x'] },
    });
    expect(storedImage({ Id: 'nope', Size: 1 })).toBeUndefined();
  });

  it('reads GET /containers/json?all=1', () => {
    expect(storedContainers([{ Id: 'c1', Names: ['/web'], ImageID: `sha256:${ID}` }, { Names: ['/x'] }])).toEqual([
      { id: 'c1', name: 'web', imageId: ID },
    ]);
    expect(storedContainers(undefined)).toEqual([]);
  });

  it('splits a name into repo and tag (a registry port is not a tag)', () => {
    expect(splitName('localhost:5000/app:1')).toEqual(['localhost:5000/app', '1']);
    expect(splitName('localhost:5000/app')).toEqual(['localhost:5000/app', 'latest']);
    expect(splitName('app')).toEqual(['app', 'latest']);
  });
});
