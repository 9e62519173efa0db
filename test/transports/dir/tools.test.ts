/** setfattr --restore as unpack drives it: names of any bytes, binary values, errors in one line. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumpQuote, dumpRecord, findSetfattr, restoreXattrs } from '../../../src/transports/dir/tools.js';
import { diskPath, xattrsUnder } from '../../helpers/rootfs-view.js';
import { tempDir } from '../helpers.js';

const setfattr = findSetfattr();

describe('the getfattr --dump format', () => {
  it('escapes every byte but plain printable ASCII, octal', () => {
    expect(dumpQuote('a b\n\\=#\xe9')).toBe('a\\040b\\012\\134\\075\\043\\351');
    expect(dumpRecord('', [['user.x', Buffer.from([0, 255])]])).toBe('# file: .\nuser.x=0sAP8=\n\n');
    expect(dumpRecord('d/f', [['user.e', Buffer.alloc(0)]])).toBe('# file: ./d/f\nuser.e=0s\n\n');
  });
});

describe.skipIf(!setfattr)('restoreXattrs (setfattr -h --restore=-)', () => {
  const names = [
    'plain',
    'with space',
    ' lead',
    'trail ',
    'new\nline',
    'back\\slash',
    'eq=ual',
    '#hash',
    'caf\xe9',
    '-dash',
  ];

  it('sets binary values on files whatever their names, and on a directory', async () => {
    const dir = tempDir();
    for (const n of names) fs.writeFileSync(diskPath(dir, n), n);
    fs.mkdirSync(path.join(dir, 'sub'));
    const value = Buffer.from([0, 1, 0x0a, 0x3d, 0xff]);
    const records = [
      ...names.map((n) =>
        dumpRecord(n, [
          ['user.lf', value],
          [`user.n=a\nme`, Buffer.from('x')],
        ]),
      ),
      dumpRecord('sub', [['user.dir', Buffer.from('d')]]),
    ];
    await restoreXattrs(setfattr!, dir, records);
    const got = xattrsUnder(dir);
    for (const n of names)
      expect(got.get(n), JSON.stringify(n)).toEqual({ 'user.lf': '00010a3dff', 'user.n=a\nme': '78' });
    expect(got.get('sub')).toEqual({ 'user.dir': '64' });
  });

  it('never follows a symlink (-h): user.* on the link itself is refused, its target untouched', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'target'), 't');
    fs.symlinkSync('target', path.join(dir, 'link'));
    await expect(
      restoreXattrs(setfattr!, dir, [dumpRecord('link', [['user.x', Buffer.from('1')]])]),
    ).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/link: Operation not permitted; pass --no-xattrs/),
    });
    expect(xattrsUnder(dir).get('target') ?? {}).toEqual({});
  });

  it('says what failed in one line, how many more, and how to do without', async () => {
    const dir = tempDir();
    const records = ['a', 'b', 'c'].map((n) => dumpRecord(n, [['user.x', Buffer.from('1')]]));
    const err = await restoreXattrs(setfattr!, dir, records).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/No such file or directory \(and 2 more\)/),
    });
    expect((err as Error).message).not.toMatch(/\n/);
  });
});
