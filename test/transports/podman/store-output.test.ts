import { describe, expect, it } from 'vitest';
import {
  parseContainers,
  parseGraphRoot,
  parseIdList,
  parseStoredImages,
} from '../../../src/transports/podman/store-output.js';

const ID = '4e197630449cb2124c5b2841159cd10efa73a22f9af7b24c3fdcf7fd039363ed';

describe('podman store output', () => {
  it('reads ID lists with or without sha256:, each once', () => {
    expect(parseIdList(`sha256:${ID}\n${ID}\n\nnot-an-id\n`)).toEqual([ID]);
  });

  it('reads image inspect: names, diff_ids, size, Config', () => {
    const json = JSON.stringify([
      {
        Id: ID,
        Size: 5,
        RepoTags: ['localhost/x:1'],
        RootFS: { Type: 'layers', Layers: ['sha256:1'] },
        Config: { Cmd: ['a'] },
      },
      { Id: ID, Size: 5, RepoTags: null, RootFS: null },
    ]);
    expect(parseStoredImages(json)).toEqual([
      { id: ID, names: ['localhost/x:1'], layers: ['sha256:1'], size: 5, config: { Cmd: ['a'] } },
      { id: ID, names: [], layers: [], size: 5, config: {} },
    ]);
    expect(() => parseStoredImages('{}')).toThrow(/not a JSON array/);
    expect(() => parseStoredImages('[{"Id":"x"}]')).toThrow(/without an Id/);
  });

  it('reads container inspect: ID, name, image ID', () => {
    const json = JSON.stringify([
      { Id: 'c1', Name: 'web', Image: ID },
      { Id: 'c2', Image: `sha256:${ID}` },
      { Name: 'x' },
    ]);
    expect(parseContainers(json)).toEqual([
      { id: 'c1', name: 'web', imageId: ID },
      { id: 'c2', name: 'c2', imageId: ID },
    ]);
  });

  it("reads the graph root of podman info (4.x's graphRoot, 1.6.4's GraphRoot)", () => {
    expect(parseGraphRoot('{"store":{"graphRoot":"/a"}}')).toBe('/a');
    expect(parseGraphRoot('{"store":{"GraphRoot":"/b"}}')).toBe('/b');
    expect(() => parseGraphRoot('{}')).toThrow(/graph root/);
  });
});
