import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TarEntry } from '../../src/tar/entry.js';
import { checksumMatches, parseHeader } from '../../src/tar/header.js';
import { buildHeader, END_OF_ARCHIVE, paddingFor, rewriteHeader } from '../../src/tar/writer.js';
import { buildTar, collectTar, utf8 } from '../helpers/tar-builder.js';

const tarEnv = { ...process.env, LC_ALL: 'C', TZ: 'UTC' };
const tar = (args: string[], cwd?: string) => execFileSync('tar', args, { cwd, encoding: 'latin1', env: tarEnv });
const hasSetfattr = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v setfattr getfattr'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-writer-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const one = async (bytes: Buffer) => (await collectTar(bytes))[0]!.entry;
const entryOf = (header: Buffer, data = Buffer.alloc(0)) =>
  one(Buffer.concat([header, data, paddingFor(data.length), END_OF_ARCHIVE]));

/** Write entries with (possibly new) headers and their data as a tar file; returns its path. */
function writeTar(name: string, items: Array<{ header: Buffer; data: Buffer }>): string {
  const parts = items.flatMap(({ header, data }) => [header, data, paddingFor(data.length)]);
  const p = path.join(tmp, name);
  fs.writeFileSync(p, Buffer.concat([...parts, END_OF_ARCHIVE]));
  return p;
}

/** `getfattr -d` of a file (an ASCII path), hex values, without the "# file:" line. */
function xattrsOf(file: string): string {
  if (!hasSetfattr) return '';
  const out = execFileSync('getfattr', ['--absolute-names', '-d', '-m', '-', '-e', 'hex', file], {
    encoding: 'latin1',
  });
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .join(' ');
}

/** GNU tar's view of an archive: `-tvvf` with xattrs, and the extracted tree (names → content). */
function gnuView(file: string): { list: string; tree: Map<string, string> } {
  const dir = fs.mkdtempSync(path.join(tmp, 'x-'));
  tar(['--xattrs', '--xattrs-include=*', '-xf', file, '-C', dir]);
  const tree = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const n of fs.readdirSync(d, { encoding: 'buffer' })) {
      const full = Buffer.concat([Buffer.from(`${d}/`), n]).toString('latin1');
      const r = rel + n.toString('latin1');
      const st = fs.lstatSync(Buffer.from(full, 'latin1'));
      if (st.isDirectory()) walk(full, `${r}/`);
      else if (st.isSymbolicLink()) tree.set(r, `-> ${fs.readlinkSync(Buffer.from(full, 'latin1'), 'latin1')}`);
      else tree.set(r, `${fs.readFileSync(Buffer.from(full, 'latin1')).toString('hex')} ${xattrsOf(full)}`);
    }
  };
  walk(dir, '');
  return { list: tar(['--xattrs', '--xattrs-include=*', '-tvvf', file]), tree };
}

describe('buildHeader', () => {
  it('writes one ustar block for a short ASCII path, whatever the size', async () => {
    for (const size of [0, 1, 8 * 2 ** 30 - 1, 8 * 2 ** 30, 2 ** 45]) {
      const h = buildHeader({ path: 'usr/bin/x', type: 'file', mode: 0o755, size, mtime: 1_700_000_000 });
      expect(h.length).toBe(512);
      expect(h[124]! & 0x80).toBe(size >= 8 * 2 ** 30 ? 0x80 : 0);
      expect(parseHeader(h)).toMatchObject({
        name: 'usr/bin/x',
        typeflag: '0',
        mode: 0o755,
        size,
        mtime: 1_700_000_000,
      });
      expect(checksumMatches(h)).toBe(true);
    }
  });

  it('uses the ustar prefix for long splittable paths', async () => {
    const p = `${'a'.repeat(150)}/${'b'.repeat(99)}`;
    const h = buildHeader({ path: p, type: 'file', mode: 0o644 });
    expect(h.length).toBe(512);
    expect((await entryOf(h)).path).toBe(p);
  });

  it('falls back to pax for what ustar cannot hold, adding extra records verbatim', async () => {
    const cases: Array<[Parameters<typeof buildHeader>[0], string[]]> = [
      [{ path: `${'a'.repeat(300)}/f`, type: 'file', mode: 0o644 }, ['path']],
      [{ path: 'x'.repeat(101), type: 'file', mode: 0o644 }, ['path']],
      [{ path: utf8('héllo'), type: 'file', mode: 0o644 }, ['path']],
      [{ path: 'raw\xff', type: 'file', mode: 0o644 }, ['path']],
      [{ path: 'l', type: 'symlink', mode: 0o777, linkname: 't'.repeat(101) }, ['linkpath']],
      [{ path: 'u', type: 'file', mode: 0o644, uid: 3_000_000, gid: 2_097_152 }, ['uid', 'gid']],
      [{ path: 'n', type: 'file', mode: 0o644, uname: 'u'.repeat(40) }, ['uname']],
      [{ path: 'm', type: 'file', mode: 0o644, mtime: 1.5 }, ['mtime']],
    ];
    for (const [fields, keys] of cases) {
      const extra = { key: 'SCHILY.xattr.user.b', value: Buffer.from([0x80, 0, 0xff]) };
      const h = buildHeader(fields, [extra]);
      const e = await entryOf(h);
      expect(e.pax.map((r) => r.key)).toEqual([...keys, 'SCHILY.xattr.user.b']);
      expect(e.xattrs.get('user.b')).toEqual(extra.value);
      expect(e).toMatchObject({
        path: fields.path,
        uid: fields.uid ?? 0,
        gid: fields.gid ?? 0,
        mtime: fields.mtime ?? 0,
      });
      expect(e.linkname).toBe(fields.linkname ?? '');
    }
  });

  it('stores directories with a trailing slash, the root as "./"', async () => {
    expect(buildHeader({ path: 'etc', type: 'dir', mode: 0o755 }).toString('latin1', 0, 4)).toBe('etc/');
    expect(buildHeader({ path: '', type: 'dir', mode: 0o755 }).toString('latin1', 0, 2)).toBe('./');
    expect((await entryOf(buildHeader({ path: '', type: 'dir', mode: 0o755 }))).path).toBe('');
  });

  it('refuses type "other" and non-binary strings', () => {
    expect(() => buildHeader({ path: 'x', type: 'other', mode: 0 })).toThrow(/other/);
    expect(() => buildHeader({ path: '世界', type: 'file', mode: 0 })).toThrow(/binary string/);
  });

  it('produces archives GNU tar reads back exactly (names, links, devices, xattrs)', async () => {
    const specs = [
      { path: 'd/', type: 'dir' as const, mode: 0o750 },
      { path: `d/${'p'.repeat(200)}/${'q'.repeat(80)}`, content: 'deep' },
      { path: `d/${'r'.repeat(120)}`, content: 'long name' },
      { path: 'd/raw\xff\xfe', content: 'bytes' },
      { path: utf8('d/世界'), content: 'utf8' },
      { path: 'd/hard', type: 'hardlink' as const, linkname: `d/${'r'.repeat(120)}` },
      { path: 'd/sym', type: 'symlink' as const, linkname: `/${'s'.repeat(150)}` },
      { path: 'd/caps', content: 'c', xattrs: { 'user.bin': Buffer.from([0x80, 0x00, 0x0a, 0x3d, 0xff]) } },
      { path: 'd/null', type: 'chardev' as const, devmajor: 1, devminor: 3 },
      { path: 'd/fifo', type: 'fifo' as const },
    ];
    const p = path.join(tmp, 'built.tar');
    fs.writeFileSync(p, buildTar(specs));
    const names = tar(['--quoting-style=literal', '-tf', p]).trimEnd().split('\n');
    expect(names).toEqual(specs.map((s) => s.path));
    if (hasSetfattr) {
      const dir = fs.mkdtempSync(path.join(tmp, 'x-'));
      tar(['--xattrs', '--xattrs-include=*', '-xf', p, '-C', dir]);
      const hex = execFileSync('getfattr', [
        '--absolute-names',
        '--only-values',
        '-n',
        'user.bin',
        path.join(dir, 'd/caps'),
      ]);
      expect(hex).toEqual(Buffer.from([0x80, 0x00, 0x0a, 0x3d, 0xff]));
      expect(fs.readlinkSync(path.join(dir, 'd/sym'))).toBe(`/${'s'.repeat(150)}`);
      expect(fs.statSync(path.join(dir, 'd/hard')).ino).toBe(fs.statSync(path.join(dir, `d/${'r'.repeat(120)}`)).ino);
    }
  });
});

describe('rewriteHeader', () => {
  const capsSpec = {
    path: 'bin/ping',
    content: 'ping',
    mode: 0o4755,
    xattrs: {
      'security.capability': Buffer.from('0100000200000080000000000000000000000000', 'hex'),
      'trusted.overlay.opaque': 'y',
      'user.overlay.origin': Buffer.from([0, 1, 2]),
      'user.keep': Buffer.from([0x80]),
    },
  };

  it('returns the very same bytes when nothing changes', async () => {
    const e = await one(buildTar([capsSpec]));
    expect(rewriteHeader(e, {})).toBe(e.header);
    expect(rewriteHeader(e, { path: e.path, dropPax: () => false })).toBe(e.header);
  });

  it('drops overlay xattrs and keeps the others verbatim', async () => {
    const e = await one(buildTar([capsSpec]));
    const h = rewriteHeader(e, { dropPax: (k) => /^SCHILY\.xattr\.(trusted|user)\.overlay\./.test(k) });
    const back = await entryOf(h, Buffer.from('ping'));
    expect([...back.xattrs.keys()]).toEqual(['security.capability', 'user.keep']);
    expect(back.xattrs.get('security.capability')).toEqual(capsSpec.xattrs['security.capability']);
    expect(back).toMatchObject({ path: 'bin/ping', mode: 0o4755, mtime: e.mtime, uname: 'root', dataSize: 4 });
    expect(h.subarray(h.length - 512)).toEqual(e.header.subarray(e.header.length - 512)); // main header untouched
    const none = rewriteHeader(e, { dropPax: () => true });
    expect(none.length).toBe(512);
  });

  it('renames (short → long → short) with pax where needed, keeping xattrs', async () => {
    const e = await one(buildTar([capsSpec]));
    const longName = `${'n'.repeat(200)}/${'o'.repeat(120)}`;
    const long = await entryOf(rewriteHeader(e, { path: longName }), Buffer.from('ping'));
    expect(long.path).toBe(longName);
    expect(long.pax.map((r) => r.key)).toEqual([...e.pax.map((r) => r.key), 'path']);
    expect(long.xattrs).toEqual(e.xattrs);
    const short = await entryOf(rewriteHeader(long, { path: 'sbin/ping' }), Buffer.from('ping'));
    expect(short.path).toBe('sbin/ping');
    expect(short.pax.map((r) => r.key)).toEqual(e.pax.map((r) => r.key));
    const prefixed = rewriteHeader(await one(buildTar([{ path: 'a', content: '' }])), { path: `${'p'.repeat(120)}/q` });
    expect(prefixed.length).toBe(512); // ustar prefix, no pax
  });

  it('re-points a hardlink, dropping a GNU K block', async () => {
    const longTarget = 'k'.repeat(150);
    const e = await one(buildTar([{ path: 'l', type: 'hardlink', linkname: longTarget, format: 'gnu' }]));
    expect(e.header.length).toBe(3 * 512);
    const h = rewriteHeader(e, { linkname: 'other' });
    expect(h.length).toBe(512);
    expect((await entryOf(h)).linkname).toBe('other');
    const back = await entryOf(rewriteHeader(e, { linkname: 'z'.repeat(300) }));
    expect(back.linkname).toBe('z'.repeat(300));
    expect(back.pax.map((r) => r.key)).toEqual(['linkpath']);
  });

  it('gives a file header a hardlink type with size 0', async () => {
    const e = await one(buildTar([{ path: 'f', content: 'data' }]));
    const back = await entryOf(rewriteHeader(e, { path: 'g', type: 'hardlink', linkname: 'f' }));
    expect(back).toMatchObject({ path: 'g', type: 'hardlink', linkname: 'f', dataSize: 0 });
    expect(back.header.toString('latin1', 124, 136)).toBe('00000000000\0');
  });

  it('renames entries of real GNU tar archives; GNU tar extracts them under the new names', async () => {
    const src = path.join(tmp, 'src');
    fs.mkdirSync(src);
    const longPath = `${'w'.repeat(120)}/${'v'.repeat(140)}`;
    fs.mkdirSync(path.join(src, longPath.split('/')[0]!));
    fs.writeFileSync(path.join(src, longPath), 'long');
    fs.writeFileSync(path.join(src, 'caps'), 'caps');
    if (hasSetfattr) execFileSync('setfattr', ['-n', 'user.x', '-v', '0x80000aff', path.join(src, 'caps')]);
    const fd = fs.openSync(path.join(src, 'sparse'), 'w');
    for (let i = 0; i < 10; i++) fs.writeSync(fd, Buffer.alloc(1000, i + 1), 0, 1000, i * 100_000);
    fs.ftruncateSync(fd, 2_000_000);
    fs.closeSync(fd);
    const rename = (p: string) => (p === '' ? p : p.replace(/^(caps|sparse|w+)/, `renamed-${'y'.repeat(120)}/$1`));
    for (const [fmt, extra] of [
      ['gnu', ['--sparse']],
      ['pax', ['--xattrs', '--xattrs-include=*']],
      ['pax', ['--sparse', '--sparse-version=1.0']],
      ['pax', ['--sparse', '--sparse-version=0.1']],
    ] as const) {
      const orig = path.join(tmp, `orig-${fmt}-${extra.join('')}.tar`);
      tar([`--format=${fmt}`, ...extra, '-cf', orig, '.'], src);
      const got = await collectTar(fs.readFileSync(orig));
      const out = writeTar(`renamed-${fmt}-${extra.join('')}.tar`, [
        {
          header: buildHeader({ path: `renamed-${'y'.repeat(120)}`, type: 'dir', mode: 0o755 }),
          data: Buffer.alloc(0),
        },
        ...got.map(({ entry, data }: { entry: TarEntry; data: Buffer }) => ({
          header: rewriteHeader(entry, { path: rename(entry.path) }),
          data,
        })),
      ]);
      const before = gnuView(orig).tree;
      const after = gnuView(out).tree;
      const want = new Map([...before].map(([k, v]) => [rename(k), v]));
      expect(after).toEqual(want);
      if (hasSetfattr && (extra as readonly string[]).includes('--xattrs'))
        expect(after.get(rename('caps'))).toMatch(/user\.x=0x80000aff$/);
      const reread = await collectTar(fs.readFileSync(out));
      for (const { entry } of reread.slice(1)) {
        const o = got.find((g) => rename(g.entry.path) === entry.path)!.entry;
        expect(entry.xattrs).toEqual(o.xattrs);
        expect(entry.sparse).toEqual(o.sparse);
        expect(entry.size).toBe(o.size);
      }
    }
  });
});
