/**
 * Breakouts other extractors had, each as small crafted layers unpacked next to an outside/
 * directory: nothing outside DIR may appear or change (unpackScratch checks it every time), and
 * DIR holds what the engines make of the same layers (docs/engine-rules.md) — or the unpack is
 * refused, as the engines refuse it, leaving nothing. Symlink races (moby CVE-2018-15664) are out
 * of scope: nobody else writes into DIR while it is unpacked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { viewOfDir } from '../helpers/rootfs-view.js';
import { utf8 } from '../helpers/tar-builder.js';
import { expectRefused, expectUnpacked, rel, scratch, unpackScratch } from '../helpers/unpack-case.js';

const root = process.geteuid?.() === 0;
const read = (dir: string, p: string) => fs.readFileSync(path.join(dir, p), 'utf8');
const ino = (p: string) => fs.lstatSync(p).ino;

describe('moby/docker: a symlink, then a file written through it', () => {
  it('link -> / then link/etc/passwd writes DIR/etc/passwd', async () => {
    const s = scratch([
      [{ path: 'link', type: 'symlink', linkname: '/' }, { path: 'etc/' }],
      [{ path: 'link/etc/passwd', content: 'root:x:0:0\n' }],
    ]);
    await expectUnpacked(s);
    expect(read(s.dir, 'etc/passwd')).toBe('root:x:0:0\n');
    expect(fs.readlinkSync(path.join(s.dir, 'link'))).toBe('/');
  });

  it('link -> /etc then link/passwd is DIR/etc/passwd (the chroot rule, engine-rules §1b)', async () => {
    const s = scratch([
      [{ path: 'etc/' }, { path: 'etc/passwd', content: 'old\n' }],
      [{ path: 'link', type: 'symlink', linkname: '/etc' }],
      [{ path: 'link/passwd', content: 'new\n' }],
    ]);
    await expectUnpacked(s);
    expect(read(s.dir, 'etc/passwd')).toBe('new\n');
  });

  it('an absolute symlink to the host path of outside/ lands in the same path inside DIR', async () => {
    const s = scratch(({ outside }) => [
      [{ path: `${rel(outside)}/` }, { path: 'link', type: 'symlink', linkname: outside }],
      [{ path: 'link/victim', content: 'pwned\n' }],
    ]);
    await expectUnpacked(s);
    expect(read(s.dir, `${s.outside}/victim`)).toBe('pwned\n');
  });

  it('a climbing symlink (../../../..) is clamped at DIR', async () => {
    const s = scratch(({ outside }) => [
      [{ path: `${rel(outside)}/` }, { path: 'a/b/link', type: 'symlink', linkname: `../../../../../../..${outside}` }],
      [
        { path: 'a/b/link/victim', content: 'pwned\n' },
        { path: 'up', type: 'symlink', linkname: '../../..' },
      ],
      [{ path: 'up/top', content: 'top\n' }],
    ]);
    await expectUnpacked(s);
    expect(read(s.dir, `${s.outside}/victim`)).toBe('pwned\n');
    expect(read(s.dir, 'top')).toBe('top\n');
  });

  it('a symlink to a path DIR does not have: refused, as the engines refuse it (no such directory)', async () => {
    const s = scratch(({ outside }) => [
      [{ path: 'link', type: 'symlink', linkname: outside }],
      [{ path: 'link/victim', content: 'pwned\n' }],
    ]);
    await expectRefused(s, 'BAD_TAR', /points to nothing/);
  });

  it('a chain of symlinks ending outside, and a loop: refused', async () => {
    await expectRefused(
      scratch(({ outside }) => [
        [
          { path: 'a', type: 'symlink', linkname: 'b' },
          { path: 'b', type: 'symlink', linkname: `${outside}/sub` },
        ],
        [{ path: 'a/x', content: 'pwned\n' }],
      ]),
      'BAD_TAR',
    );
    await expectRefused(
      scratch([
        [
          { path: 'a', type: 'symlink', linkname: 'b' },
          { path: 'b', type: 'symlink', linkname: 'a' },
        ],
        [{ path: 'a/x', content: 'x' }],
      ]),
      'BAD_TAR',
      /too many levels/,
    );
  });

  it('a symlink replaced by a directory in a later layer: the directory is real, inside DIR', async () => {
    const s = scratch(({ outside }) => [
      [{ path: 'd', type: 'symlink', linkname: outside }],
      [
        { path: 'd/', mode: 0o750 },
        { path: 'd/victim', content: 'inside\n' },
      ],
    ]);
    await expectUnpacked(s);
    expect(fs.lstatSync(path.join(s.dir, 'd')).isDirectory()).toBe(true);
    expect(read(s.dir, 'd/victim')).toBe('inside\n');
  });

  it('a file over a symlink to outside/victim replaces the symlink, never writes through it', async () => {
    const s = scratch(({ outside }) => [
      [{ path: 'f', type: 'symlink', linkname: `${outside}/victim` }],
      [{ path: 'f', content: 'mine\n', mode: 0o4755 }],
    ]);
    await expectUnpacked(s);
    expect(fs.lstatSync(path.join(s.dir, 'f')).isFile()).toBe(true);
  });

  it('a symlink to outside/victim stays a symlink, dangling inside DIR', async () => {
    const s = scratch(({ outside }) => [[{ path: 'f', type: 'symlink', linkname: `${outside}/victim` }]]);
    await expectUnpacked(s);
    expect(fs.readlinkSync(path.join(s.dir, 'f'))).toBe(`${s.outside}/victim`);
  });
});

describe('node-tar advisories', () => {
  it('CVE-2021-32803 (symlink cache poisoning): a dir, a symlink over it, then a file below', async () => {
    // The symlink replaces the directory (the last component is never followed); the file below
    // it then resolves through the symlink inside DIR — to a directory DIR lacks: refused.
    await expectRefused(
      scratch(({ outside }) => [
        [{ path: 'foo/' }, { path: 'foo/old', content: 'old' }],
        [
          { path: 'foo', type: 'symlink', linkname: outside },
          { path: 'foo/victim', content: 'x' },
        ],
      ]),
      'BAD_TAR',
      /points to nothing/,
    );
    // The same with the target inside the image: written there, and the old directory is gone.
    const s = scratch(({ outside }) => [
      [{ path: `${rel(outside)}/` }, { path: 'foo/' }, { path: 'foo/old', content: 'old' }],
      [
        { path: 'foo', type: 'symlink', linkname: outside },
        { path: 'foo/victim', content: 'in\n' },
      ],
    ]);
    await expectUnpacked(s);
    expect(read(s.dir, `${s.outside}/victim`)).toBe('in\n');
    expect(fs.lstatSync(path.join(s.dir, 'foo')).isSymbolicLink()).toBe(true);
  });

  it('CVE-2021-32804 (absolute paths, repeated slashes): re-rooted inside DIR', async () => {
    const s = scratch(({ outside }) => [
      [
        { path: '////etc/abs', content: 'abs\n' },
        { path: `${outside}/victim`, content: 'pwned\n' },
      ],
    ]);
    await expectUnpacked(s);
    expect(read(s.dir, 'etc/abs')).toBe('abs\n');
    expect(read(s.dir, `${s.outside}/victim`)).toBe('pwned\n');
  });

  it('".." that climbs above the root is refused (BAD_PATH), in a name and in a hardlink target', async () => {
    await expectRefused(scratch([[{ path: '../outside/victim', content: 'pwned\n' }]]), 'BAD_PATH');
    await expectRefused(scratch([[{ path: 'a/../../outside/victim', content: 'pwned\n' }]]), 'BAD_PATH');
    await expectRefused(scratch([[{ path: 'h', type: 'hardlink', linkname: '../outside/victim' }]]), 'BAD_PATH');
  });

  it('CVE-2021-37701 (backslashes, case): on Linux they are plain names, nothing aliases', async () => {
    const s = scratch(({ outside }) => [
      [
        { path: 'a\\b', type: 'symlink', linkname: outside },
        { path: 'a/b/victim', content: 'a/b\n' },
        { path: 'FOO', type: 'symlink', linkname: outside },
        { path: 'foo/victim', content: 'foo\n' },
      ],
    ]);
    await expectUnpacked(s);
    expect(read(s.dir, 'a/b/victim')).toBe('a/b\n');
    expect(read(s.dir, 'foo/victim')).toBe('foo\n');
  });

  it('CVE-2021-37712 (unicode normalisation, drive letters): NFC and NFD names stay two names', async () => {
    const nfd = utf8('cafe\u0301');
    const nfc = utf8('caf\u00e9');
    const s = scratch(({ outside }) => [
      [
        { path: nfd, type: 'symlink', linkname: outside },
        { path: `${nfc}/victim`, content: 'nfc\n' },
        { path: 'c:../../x', content: 'drive\n' },
      ],
    ]);
    await expectUnpacked(s);
    const names = fs.readdirSync(Buffer.from(s.dir), { encoding: 'buffer' }).map((b) => b.toString('latin1'));
    expect(names.sort()).toEqual([nfd, nfc, 'x'].sort());
    expect(read(s.dir, 'x')).toBe('drive\n');
  });
});

describe('hardlinks', () => {
  it('an absolute hardlink target names the file inside DIR, never the host’s', async () => {
    const s = scratch([
      [{ path: 'etc/' }, { path: 'etc/passwd', content: 'image\n' }],
      [{ path: 'h', type: 'hardlink', linkname: '/etc/passwd' }],
    ]);
    await expectUnpacked(s);
    expect(ino(path.join(s.dir, 'h'))).toBe(ino(path.join(s.dir, 'etc/passwd')));
    expect(ino(path.join(s.dir, 'h'))).not.toBe(ino('/etc/passwd'));
  });

  it('a hardlink to a path the image lacks is refused (the engines refuse it too)', async () => {
    await expectRefused(
      scratch(({ outside }) => [[{ path: 'h', type: 'hardlink', linkname: `${outside}/victim` }]]),
      'BAD_TAR',
    );
  });

  it('a hardlink through a symlink (link -> /etc, h -> link/passwd) links DIR/etc/passwd', async () => {
    const s = scratch([
      [
        { path: 'etc/' },
        { path: 'etc/passwd', content: 'image\n' },
        { path: 'link', type: 'symlink', linkname: '/etc' },
      ],
      [{ path: 'h', type: 'hardlink', linkname: 'link/passwd' }],
    ]);
    await expectUnpacked(s);
    expect(ino(path.join(s.dir, 'h'))).toBe(ino(path.join(s.dir, 'etc/passwd')));
  });

  it('a hardlink to a symlink aimed outside is a second name of the symlink, not of its target', async () => {
    const s = scratch(({ outside }) => [
      [
        { path: 's', type: 'symlink', linkname: `${outside}/victim` },
        { path: 'h', type: 'hardlink', linkname: 's' },
      ],
    ]);
    await unpackScratch(s);
    expect(fs.readlinkSync(path.join(s.dir, 'h'))).toBe(`${s.outside}/victim`);
    expect(ino(path.join(s.dir, 'h'))).toBe(ino(path.join(s.dir, 's')));
  });
});

describe('umoci CVE-2021-29136 and containers/storage: whiteouts and metadata never act outside', () => {
  it('a whiteout below a symlink to outside/ removes nothing (there is nothing there inside DIR)', async () => {
    const s = scratch(({ outside }) => [
      [
        { path: 'link', type: 'symlink', linkname: outside },
        { path: 'keep', content: 'k\n' },
      ],
      [{ path: 'link/.wh.victim' }, { path: 'link/.wh..wh..opq' }],
    ]);
    await expectUnpacked(s);
    expect(read(s.dir, 'keep')).toBe('k\n');
  });

  it('a whiteout through link -> / removes DIR/etc only', async () => {
    const s = scratch([
      [{ path: 'etc/' }, { path: 'etc/passwd', content: 'x' }, { path: 'link', type: 'symlink', linkname: '/' }],
      [{ path: 'link/.wh.etc' }],
    ]);
    await expectUnpacked(s);
    expect(fs.existsSync(path.join(s.dir, 'etc'))).toBe(false);
    expect(fs.existsSync('/etc/passwd')).toBe(true);
  });

  it('a whiteout that climbs out (../.wh.outside) is refused', async () => {
    await expectRefused(scratch([[{ path: 'a' }], [{ path: '../.wh.outside' }]]), 'BAD_PATH');
  });

  it.skipIf(!root)('xattrs, owner, mode and times of a symlink aimed outside go on the symlink', async () => {
    const s = scratch(({ outside }) => [
      [
        {
          path: 's',
          type: 'symlink',
          linkname: `${outside}/victim`,
          uid: 1234,
          gid: 1234,
          mtime: 1000,
          xattrs: { 'trusted.lf': 'on-link', 'user.lf': 'skipped' },
        },
        { path: 'd', type: 'symlink', linkname: outside, mode: 0o700 },
      ],
    ]);
    const r = await unpackScratch(s);
    expect(r.result).toMatchObject({ xattrs: 1, xattrsSkipped: 1 });
    const view = viewOfDir(s.dir);
    expect(view.lookup('s')?.value).toMatchObject({
      uid: 1234,
      gid: 1234,
      mtime: 1000,
      xattrs: { 'trusted.lf': '6f6e2d6c696e6b' },
    });
    expect(fs.lstatSync(path.join(s.outside, 'victim')).uid).toBe(0);
    expect(viewOfDir(s.outside).lookup('victim')?.value?.xattrs).toEqual({});
    expect(fs.statSync(s.outside).mode & 0o777).not.toBe(0o700);
  });

  it('an entry under a file of the same layer is refused, not written beside it', async () => {
    await expectRefused(
      scratch([
        [
          { path: 'x', content: 'file' },
          { path: 'x/y', content: 'y' },
        ],
      ]),
      'BAD_TAR',
    );
  });
});
