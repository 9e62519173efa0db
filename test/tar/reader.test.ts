import { describe, expect, it } from 'vitest';
import { readTar } from '../../src/tar/reader.js';
import { paxExtension } from '../../src/tar/blocks.js';
import { END_OF_ARCHIVE, paddingFor } from '../../src/tar/writer.js';
import { rechunk } from '../helpers/rechunk.js';
import { buildEntry, buildTar, collectTar, fixChecksum, plain, utf8, type EntrySpec } from '../helpers/tar-builder.js';

const cap = Buffer.from('0100000200000080000000000000000000000000', 'hex');
const long = 'd'.repeat(60) + '/' + 'e'.repeat(60) + '/' + 'f'.repeat(90); // splittable: ustar prefix
const veryLong = ('x'.repeat(99) + '/').repeat(3) + 'file'; // >255: pax path / GNU L

const specs: EntrySpec[] = [
  { path: './', type: 'dir' },
  { path: 'etc/', type: 'dir', mode: 0o755 },
  { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n', mode: 0o644 },
  { path: 'bin/ping', content: Buffer.alloc(1500, 7), mode: 0o4755, xattrs: { 'security.capability': cap } },
  { path: 'bin/ping2', type: 'hardlink', linkname: 'bin/ping' },
  { path: 'lib/ld.so', type: 'symlink', linkname: '/lib64/../lib/ld-2.so' },
  { path: 'dev/null', type: 'chardev', devmajor: 1, devminor: 3, mode: 0o666 },
  { path: 'run/fifo', type: 'fifo' },
  { path: long, content: 'prefix+name' },
  { path: veryLong, content: 'pax path' },
  { path: veryLong + '-gnu', content: 'gnu long name', format: 'gnu' },
  { path: 'gnu-link', type: 'symlink', linkname: veryLong, format: 'gnu' },
  { path: utf8('héllo-世界.txt'), content: 'unicode' },
  { path: 'raw-\xff\xfe', content: 'not utf-8', format: 'gnu' },
  { path: 'big-uid', uid: 3_000_000, gid: 3_000_001, content: '' },
  { path: 'old', mtime: -86400 * 365, content: 'pre-1970' },
  { path: 'frac', mtime: 1_700_000_000.25, content: 'x' },
  { path: 'exact-512', content: Buffer.alloc(512, 1) },
  {
    path: 'user.x',
    content: 'x',
    xattrs: { 'user.bin': Buffer.from([0x80, 0x00, 0x41, 0xff]), 'user.empty': Buffer.alloc(0) },
  },
];
const tar = buildTar(specs);

describe('readTar on built archives', () => {
  it('parses every kind of entry', async () => {
    const got = await collectTar(tar);
    const by = new Map(got.map((g) => [g.entry.path, g]));
    expect(got.map((g) => g.entry.path)).toEqual([
      '',
      'etc',
      'etc/passwd',
      'bin/ping',
      'bin/ping2',
      'lib/ld.so',
      'dev/null',
      'run/fifo',
      long,
      veryLong,
      veryLong + '-gnu',
      'gnu-link',
      utf8('héllo-世界.txt'),
      'raw-\xff\xfe',
      'big-uid',
      'old',
      'frac',
      'exact-512',
      'user.x',
    ]);
    expect(got.map((g) => g.entry.type)).toEqual([
      'dir',
      'dir',
      'file',
      'file',
      'hardlink',
      'symlink',
      'chardev',
      'fifo',
      'file',
      'file',
      'file',
      'symlink',
      'file',
      'file',
      'file',
      'file',
      'file',
      'file',
      'file',
    ]);
    const ping = by.get('bin/ping')!;
    expect(ping.entry.mode).toBe(0o4755);
    expect(ping.entry.xattrs.get('security.capability')).toEqual(cap);
    expect(ping.data).toEqual(Buffer.alloc(1500, 7));
    expect(ping.entry.header.includes(cap)).toBe(true); // raw pax bytes kept
    expect(by.get('bin/ping2')!.entry.linkname).toBe('bin/ping');
    expect(by.get('lib/ld.so')!.entry.linkname).toBe('/lib64/../lib/ld-2.so'); // symlink target as stored
    expect(by.get('dev/null')!.entry).toMatchObject({ devmajor: 1, devminor: 3, mode: 0o666 });
    expect(by.get('gnu-link')!.entry.linkname).toBe(veryLong);
    expect(by.get('big-uid')!.entry).toMatchObject({ uid: 3_000_000, gid: 3_000_001 });
    expect(by.get('old')!.entry.mtime).toBe(-86400 * 365);
    expect(by.get('frac')!.entry.mtime).toBe(1_700_000_000.25);
    expect(by.get('etc/passwd')!.entry).toMatchObject({ uname: 'root', gname: 'root', uid: 0, size: 26, dataSize: 26 });
    const ux = by.get('user.x')!.entry.xattrs;
    expect(ux.get('user.bin')).toEqual(Buffer.from([0x80, 0x00, 0x41, 0xff]));
    expect(ux.get('user.empty')).toEqual(Buffer.alloc(0));
  });

  it('gives offsets and raw headers that reproduce the archive byte for byte', async () => {
    const got = await collectTar(tar);
    const parts: Buffer[] = [];
    for (const { entry, data } of got) {
      expect(tar.subarray(entry.offset, entry.offset + entry.header.length)).toEqual(entry.header);
      const at = entry.offset + entry.header.length;
      expect(tar.subarray(at, at + entry.dataSize)).toEqual(data);
      parts.push(entry.header, data, paddingFor(entry.dataSize));
    }
    parts.push(END_OF_ARCHIVE);
    expect(Buffer.concat(parts).equals(tar)).toBe(true);
  });

  it.each([['bytes'], ['random'], [1000], [511], [513]] as const)('parses identically in %s chunks', async (mode) => {
    const want = plain(await collectTar(tar));
    for (const seed of mode === 'random' ? [1, 2, 3, 4, 5] : [1]) {
      expect(plain(await collectTar(rechunk(tar, mode, seed)))).toEqual(want);
    }
  });

  it('accepts Uint8Array chunks', async () => {
    async function* u8() {
      yield new Uint8Array(tar.buffer, tar.byteOffset, tar.byteLength);
    }
    expect(plain(await collectTar(u8() as AsyncIterable<Buffer>))).toEqual(plain(await collectTar(tar)));
  });

  it('copies header bytes: a producer that reuses its buffer does not corrupt entries', async () => {
    async function* reusing(): AsyncIterable<Buffer> {
      const buf = Buffer.alloc(700);
      for (let pos = 0; pos < tar.length; pos += 700) {
        const n = tar.copy(buf, 0, pos, pos + 700);
        yield buf.subarray(0, n);
        buf.fill(0xaa);
      }
    }
    const entries = [];
    for await (const item of readTar(reusing())) entries.push(item.entry);
    const want = (await collectTar(tar)).map((g) => g.entry);
    expect(plain(entries)).toEqual(plain(want));
  });
});

describe('readTar structure rules', () => {
  it('normalises paths and maps v7 directories', async () => {
    const t = buildTar([
      { path: './a/./b//c', content: '' },
      { path: 'v7dir/', type: 'file' },
      { path: 'hl', type: 'hardlink', linkname: './a/./b//c' },
    ]);
    const got = (await collectTar(t)).map((g) => [g.entry.path, g.entry.type, g.entry.linkname]);
    expect(got).toEqual([
      ['a/b/c', 'file', ''],
      ['v7dir', 'dir', ''],
      ['hl', 'hardlink', 'a/b/c'],
    ]);
  });

  it('applies pax over GNU long names over header names, GNU.sparse.name over all; empty values unset', async () => {
    const gnuLong = buildEntry({ path: `${'g'.repeat(120)}`, content: 'x', format: 'gnu' });
    const withPax = (recs: Array<[string, string]>) =>
      Buffer.concat([
        paxExtension(
          recs.map(([k, v]) => ({ key: k, value: Buffer.from(v, 'latin1') })),
          'x',
          0,
        ),
        gnuLong,
      ]);
    const name = async (recs: Array<[string, string]>) => (await collectTar(withPax(recs)))[0]!.entry.path;
    expect(await name([])).toBe('g'.repeat(120));
    expect(await name([['path', 'from-pax']])).toBe('from-pax');
    expect(await name([['path', '']])).toBe('g'.repeat(120));
    expect(
      await name([
        ['path', 'from-pax'],
        ['GNU.sparse.name', 'sparse-name'],
        ['GNU.sparse.realsize', '10'],
      ]),
    ).toBe('sparse-name');
    expect(
      await name([
        ['path', 'a'],
        ['path', 'b'],
      ]),
    ).toBe('b');
  });

  it('decodes LIBARCHIVE.xattr records (percent-encoded name, base64 value)', async () => {
    const value = Buffer.from([0x80, 0x00, 0xff]);
    const t = buildTar([
      { path: 'f', pax: [{ key: 'LIBARCHIVE.xattr.user.a%3Db', value: Buffer.from(value.toString('base64')) }] },
    ]);
    expect((await collectTar(t))[0]!.entry.xattrs.get('user.a=b')).toEqual(value);
  });

  it('skips pax global headers without applying them', async () => {
    const g = Buffer.concat([
      gHeader(Buffer.from('20 comment=abcdefgh\n16 uname=alice\n')),
      buildEntry({ path: 'a', content: 'A' }),
    ]);
    const got = await collectTar(Buffer.concat([g, END_OF_ARCHIVE]));
    expect(got).toHaveLength(1);
    expect(got[0]!.entry).toMatchObject({ path: 'a', uname: 'root', offset: 1024 });
  });

  it('accepts a stream without end-of-archive blocks, or with only one', async () => {
    const body = buildTar([{ path: 'a', content: 'A' }], { end: false });
    expect(await collectTar(body)).toHaveLength(1);
    expect(await collectTar(Buffer.concat([body, Buffer.alloc(512)]))).toHaveLength(1);
    expect(await collectTar(Buffer.alloc(0))).toHaveLength(0);
  });

  it('reads and ignores what follows the end-of-archive blocks', async () => {
    let pulled = 0;
    async function* src() {
      yield tar;
      pulled++;
      yield Buffer.from('trailing junk');
      pulled++;
    }
    expect(await collectTar(src())).toHaveLength(specs.length);
    expect(pulled).toBe(2);
  });

  it('skips unread bodies and enforces body() once, before moving on', async () => {
    const t = buildTar([
      { path: 'a', content: Buffer.alloc(3000, 1) },
      { path: 'b', content: Buffer.alloc(100, 2) },
      { path: 'c', content: Buffer.alloc(700, 3) },
    ]);
    const seen: string[] = [];
    let first: AsyncIterator<Buffer> | undefined;
    for await (const item of readTar(rechunk(t, 100))) {
      seen.push(item.entry.path);
      if (item.entry.path === 'a') {
        first = item.body()[Symbol.asyncIterator]();
        const chunk = await first.next(); // read part of it only
        expect(chunk.value).toEqual(Buffer.alloc(88, 1)); // the rest of the 100-byte chunk after the header
        expect(() => item.body()).toThrow(/twice/);
      }
      if (item.entry.path === 'b') {
        await expect(first!.next()).rejects.toThrow(/after moving on/);
      }
      if (item.entry.path === 'c') {
        const data = [];
        for await (const chunk of item.body()) data.push(chunk);
        expect(Buffer.concat(data)).toEqual(Buffer.alloc(700, 3));
      }
    }
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

/** A pax global ('g') header with the given record data. */
function gHeader(data: Buffer): Buffer {
  const e = buildEntry({ path: 'pax_global_header', content: data });
  e[156] = 0x67; // 'g'
  fixChecksum(e);
  return e;
}
