/** flatten's options, checked before any work, and what "nothing to squash" does. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { flatten } from '../../src/flatten/flatten.js';
import { inspect } from '../../src/inspect/inspect.js';
import { verify } from '../../src/verify/verify.js';
import { buildTar } from '../helpers/tar-builder.js';
import { archiveFile } from '../transports/handmade.js';
import { sha256, tempDir } from '../transports/helpers.js';

const RULES = path.resolve('test/fixtures/docker-rules.tar');

/** A classic docker-archive of `layers`. */
function archive(dir: string, layers: Buffer[], history?: unknown[]): string {
  return archiveFile(dir, layers, history ? { history } : {});
}

describe('-t names', () => {
  it.each(['UPPER/Case:1', 'a b', '', '../x', 'x@sha256:' + '0'.repeat(64), 'repo:bad tag'])(
    'refuses %j as USAGE before anything is read or written',
    async (tag) => {
      const dir = tempDir();
      await expect(flatten({ source: RULES, dest: path.join(dir, 'out.tar'), tags: [tag] })).rejects.toMatchObject({
        code: 'USAGE',
      });
      expect(fs.readdirSync(dir)).toEqual([]);
    },
  );

  it('accepts Docker reference names', async () => {
    const dir = tempDir();
    const r = await flatten({ source: RULES, dest: path.join(dir, 'o.tar'), tags: ['quay.io/a/b:1.0', 'local'] });
    expect(r.tags).toEqual(['quay.io/a/b:1.0', 'local']);
  });
});

describe('--keep-base with nothing above the base', () => {
  it('writes the image unchanged, with a note, instead of failing (other squashers do the same)', async () => {
    const dir = tempDir();
    const layers = [buildTar([{ path: 'a', content: 'a' }]), buildTar([{ path: 'b', content: 'b' }])];
    const history = [{ created_by: 'one' }, { created_by: 'ENV X=1', empty_layer: true }, { created_by: 'two' }];
    const source = archive(dir, layers, history);
    const dest = path.join(dir, 'out.tar');
    const r = await flatten({ source, dest, keepBase: 2 });
    expect(r).toMatchObject({ layersIn: 2, layersOut: 2, keptBase: 2 });
    expect(r.notes).toEqual([expect.stringMatching(/nothing above the 2 kept layers to squash/)]);
    expect(r.layers.map((l) => l.diffId)).toEqual(layers.map(sha256)); // the same layers, copied
    expect((await verify({ a: source, b: dest })).equal).toBe(true);
    await expect(flatten({ source, dest: path.join(dir, 'o2.tar'), keepBase: 3 })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});

describe('a hardlink to nothing', () => {
  it('gets the same code from flatten, verify and inspect: BAD_TAR, naming the link', async () => {
    const dir = tempDir();
    const layers = [
      buildTar([{ path: 'a', content: 'a' }]),
      buildTar([{ path: 'h', type: 'hardlink', linkname: 'nope' }]),
    ];
    const source = archive(dir, layers);
    const want = { code: 'BAD_TAR', message: expect.stringMatching(/hardlink "h" → missing "nope"/) };
    await expect(flatten({ source, dest: path.join(dir, 'out.tar') })).rejects.toMatchObject(want);
    await expect(verify({ a: source, b: source })).rejects.toMatchObject(want);
    await expect(inspect({ source })).rejects.toMatchObject(want);
    expect(fs.readdirSync(dir)).toEqual(['img.tar']);
  });
});
