/**
 * unpack of the real engine fixtures (test/fixtures/): the directory holds exactly the filesystem
 * the engines' model of the image says — every path's type, mode, owner, mtime, size, content,
 * symlink target, device, xattrs and hardlink identity — and nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unpack } from '../../src/unpack/unpack.js';
import { compareViews } from '../../src/verify/compare.js';
import { viewOf } from '../../src/verify/sides.js';
import { tempDir } from '../transports/helpers.js';
import { viewOfDir } from '../helpers/rootfs-view.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const root = process.geteuid?.() === 0;

const cases: [string, string, string?][] = [
  ['docker save', 'docker-rules.tar'],
  ['podman save (real opaque markers)', 'podman-rules.tar'],
  ['an OCI layout, gzip', 'oci:oci-gzip:rules'],
  ['an OCI layout, zstd', 'oci:oci-zstd:rules'],
  ['an oci-archive', 'oci-archive:rules.oci.tar'],
  ['one image of two in a docker-archive', 'docker-archive:docker-multi.tar:layerflat-fixture/second:v1'],
  ['a multi-platform index, --platform linux/arm64', 'oci:oci-multiarch', 'linux/arm64'],
];

describe.skipIf(!root)('unpack of the engine fixtures, as root', () => {
  it.each(cases)('%s: DIR is the image’s filesystem, path for path', async (_what, source, platform) => {
    const ref = source.replace(/^((?:[a-z-]+:)?)(.*)$/, (_m, t: string, p: string) => `${t}${path.join(FIXTURES, p)}`);
    const dir = path.join(tempDir(), 'rootfs');
    const r = await unpack({ source: ref, dir, platform });
    expect(r.owners).toBe('kept');
    expect(r.warnings).toEqual([]);
    const expected = await viewOf(ref, { platform });
    expect(compareViews(expected, viewOfDir(dir))).toEqual([]);
    expect(fs.existsSync(`${path.dirname(dir)}/.rootfs.layerflat-incomplete`)).toBe(false);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['rootfs']);
  });

  it('sets security.capability, the setuid bit after the owner, devices and fifos (docker-rules.tar)', async () => {
    const dir = path.join(tempDir(), 'rootfs');
    const r = await unpack({ source: path.join(FIXTURES, 'docker-rules.tar'), dir });
    const view = viewOfDir(dir);
    expect(view.lookup('xattr/capfile')?.value?.xattrs).toEqual({
      'security.capability': '0100000200000080000000000000000000000000',
    });
    expect(view.lookup('modes/suid1000')?.value).toMatchObject({ mode: 0o4750, uid: 1000, gid: 1000 });
    expect(view.lookup('modes/sticky')?.value).toMatchObject({ type: 'dir', mode: 0o1777 });
    expect(view.lookup('special/null-dev')?.value).toMatchObject({ type: 'chardev', device: '1:3' });
    expect(view.lookup('special/fifo')?.value).toMatchObject({ type: 'fifo' });
    expect(r).toMatchObject({ devices: 1, fifos: 1, devicesSkipped: 0, xattrs: 1 });
  });
});
