/**
 * Real archives from GNU tar (gnu, pax with xattrs, ustar, v7, the three pax sparse versions):
 * parsed under every chunking, re-assembled from raw headers byte for byte, listed identically
 * by GNU tar, and indexed identically by listTarFile.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TarEntry } from '../../src/tar/entry.js';
import { listTarFile } from '../../src/tar/list-file.js';
import { END_OF_ARCHIVE, paddingFor } from '../../src/tar/writer.js';
import { rechunk } from '../helpers/rechunk.js';
import { collectTar, plain, utf8 } from '../helpers/tar-builder.js';

const have = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    console.log(`skipped: the tests that need ${cmd} (it is not installed)`);
    return false;
  }
};
const isRoot = process.getuid?.() === 0;
const canSetcap = have('setcap') && isRoot;
const canSetfattr = have('setfattr');

const userX = Buffer.from([0x80, 0x00, 0x41, 0xff, 0x0a, 0x3d]); // high bit, NUL, newline and "="
const CAP_SETFCAP = Buffer.from('0100000200000080000000000000000000000000', 'hex');
const longDir = `${'l'.repeat(120)}/${'m'.repeat(150)}`;
const longFile = `${longDir}/${'n'.repeat(40)}.txt`; // > 255 bytes
const midFile = `mid/${'k'.repeat(110)}`; // > 100 bytes
const nonUtf8 = Buffer.from('non-\xff\xfe.txt', 'latin1');
const SPARSE_REGIONS = 30; // > 4 + 21: old GNU format needs two extension blocks

let tmp: string;
const tars: Record<string, string> = {};

function tar(args: string[], cwd?: string): string {
  return execFileSync('tar', args, { cwd, encoding: 'latin1', env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
}

function makeTree(root: string, full: boolean): void {
  fs.mkdirSync(path.join(root, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dir/file.txt'), 'hello\n'.repeat(100));
  fs.writeFileSync(path.join(root, 'empty'), '');
  fs.linkSync(path.join(root, 'dir/file.txt'), path.join(root, 'hard.txt'));
  fs.symlinkSync('dir/file.txt', path.join(root, 'sym'));
  fs.symlinkSync('../../nowhere', path.join(root, 'dangling'));
  if (!full) return;
  fs.mkdirSync(path.join(root, longDir), { recursive: true });
  fs.writeFileSync(path.join(root, longFile), 'long\n');
  fs.mkdirSync(path.join(root, 'mid'));
  fs.writeFileSync(path.join(root, midFile), 'mid\n');
  fs.writeFileSync(path.join(root, 'héllo-世界.txt'), 'unicode\n');
  fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/`), nonUtf8]), 'bytes\n');
  fs.writeFileSync(path.join(root, 'big-uid'), 'uid\n');
  fs.chownSync(path.join(root, 'big-uid'), 3_000_000, 3_000_001);
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  if (isRoot) execFileSync('mknod', [path.join(root, 'null'), 'c', '1', '3']);
  const fd = fs.openSync(path.join(root, 'sparse'), 'w');
  for (let i = 0; i < SPARSE_REGIONS; i++) fs.writeSync(fd, Buffer.alloc(4096, i + 1), 0, 4096, i * 65536);
  fs.ftruncateSync(fd, SPARSE_REGIONS * 65536 + (1 << 20));
  fs.closeSync(fd);
  fs.writeFileSync(path.join(root, 'caps'), 'cap\n');
  if (canSetfattr)
    execFileSync('setfattr', ['-n', 'user.x', '-v', `0x${userX.toString('hex')}`, path.join(root, 'caps')]);
  if (canSetcap) execFileSync('setcap', ['cap_setfcap+ep', path.join(root, 'caps')]);
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-tar-'));
  makeTree(path.join(tmp, 'full'), true);
  makeTree(path.join(tmp, 'plain'), false);
  const make = (name: string, args: string[], dir: string) => {
    tars[name] = path.join(tmp, `${name}.tar`);
    tar(['-cf', tars[name]!, ...args, '.'], path.join(tmp, dir));
  };
  make('gnu', ['--format=gnu', '--sparse'], 'full');
  make('pax', ['--format=pax', '--sparse', '--xattrs', '--xattrs-include=*'], 'full');
  make('ustar', ['--format=ustar'], 'plain');
  make('v7', ['--format=v7'], 'plain');
  for (const v of ['0.0', '0.1', '1.0'])
    make(`sparse-${v}`, ['--format=pax', '--sparse', `--sparse-version=${v}`], 'full');
}, 60_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const readAll = async (file: string, mode: 'bytes' | 'random' | number = 1 << 30) =>
  collectTar(rechunk(fs.readFileSync(file), mode), file);

const byPath = (got: Array<{ entry: TarEntry; data: Buffer }>) => new Map(got.map((g) => [g.entry.path, g]));

describe.each(['gnu', 'pax', 'ustar', 'v7', 'sparse-0.0', 'sparse-0.1', 'sparse-1.0'])(
  'GNU tar --format=%s',
  (name) => {
    it('parses identically in one chunk, 1-byte chunks and random chunks', async () => {
      const want = plain(await readAll(tars[name]!));
      expect(want.length).toBeGreaterThan(5);
      expect(plain(await readAll(tars[name]!, 'bytes'))).toEqual(want);
      for (const seed of [1, 2, 3])
        expect(plain(await collectTar(rechunk(fs.readFileSync(tars[name]!), 'random', seed)))).toEqual(want);
    });

    it('re-assembles from raw headers byte for byte, and GNU tar lists it identically', async () => {
      const input = fs.readFileSync(tars[name]!);
      const parts: Buffer[] = [];
      for (const { entry, data } of await readAll(tars[name]!))
        parts.push(entry.header, data, paddingFor(entry.dataSize));
      parts.push(END_OF_ARCHIVE);
      const out = Buffer.concat(parts);
      expect(out.equals(input.subarray(0, out.length))).toBe(true);
      expect(input.subarray(out.length).every((b) => b === 0)).toBe(true); // GNU tar's record padding
      const copy = path.join(tmp, `${name}-copy.tar`);
      fs.writeFileSync(copy, out);
      const list = (f: string) => tar(['--xattrs', '--xattrs-include=*', '-tvvf', f]);
      expect(list(copy)).toBe(list(tars[name]!));
    });

    it('listTarFile indexes the same entries without reading data', async () => {
      const streamed = (await readAll(tars[name]!)).map((g) => g.entry);
      expect(plain(await listTarFile(tars[name]!))).toEqual(plain(streamed));
    });
  },
);

describe('what GNU tar stored', () => {
  it('gnu: long names, odd names, base-256 ids, links, special files', async () => {
    const got = byPath(await readAll(tars.gnu!));
    expect(got.get(longFile)!.data.toString()).toBe('long\n');
    expect(got.get(longFile)!.entry.header.subarray(0, 13).toString()).toBe('././@LongLink');
    expect(got.get(longDir)!.entry.type).toBe('dir');
    expect(got.get(midFile)!.data.toString()).toBe('mid\n');
    expect(got.get(utf8('héllo-世界.txt'))!.data.toString()).toBe('unicode\n');
    expect(got.get(nonUtf8.toString('latin1'))!.data.toString()).toBe('bytes\n');
    expect(got.get('big-uid')!.entry).toMatchObject({ uid: 3_000_000, gid: 3_000_001 });
    expect(got.get('big-uid')!.entry.header[108]).toBe(0x80); // base-256
    expect(got.get('hard.txt')!.entry).toMatchObject({ type: 'hardlink', linkname: 'dir/file.txt', dataSize: 0 });
    expect(got.get('sym')!.entry).toMatchObject({ type: 'symlink', linkname: 'dir/file.txt' });
    expect(got.get('dangling')!.entry.linkname).toBe('../../nowhere');
    expect(got.get('fifo')!.entry.type).toBe('fifo');
    if (isRoot) expect(got.get('null')!.entry).toMatchObject({ type: 'chardev', devmajor: 1, devminor: 3 });
    expect(got.get('')!.entry.type).toBe('dir'); // "./"
  });

  it('gnu: old sparse format with extension blocks', async () => {
    const { entry, data } = byPath(await readAll(tars.gnu!)).get('sparse')!;
    expect(entry.typeflag).toBe('S');
    expect(entry.type).toBe('file');
    expect(entry.size).toBe(SPARSE_REGIONS * 65536 + (1 << 20));
    expect(entry.sparse?.format).toBe('gnu-old');
    expect(entry.sparse?.map?.filter((c) => c.length > 0)).toHaveLength(SPARSE_REGIONS);
    expect(entry.sparse?.map?.[1]).toEqual({ offset: 65536, length: 4096 });
    expect(entry.header.length).toBe(3 * 512);
    expect(entry.dataSize).toBe(SPARSE_REGIONS * 4096);
    expect(data.subarray(4096, 8192)).toEqual(Buffer.alloc(4096, 2));
  });

  it.runIf(canSetfattr)('pax: binary xattr values survive, raw and parsed', async () => {
    const got = byPath(await readAll(tars.pax!));
    const caps = got.get('caps')!.entry;
    expect(caps.xattrs.get('user.x')).toEqual(userX);
    const raw = Buffer.concat([Buffer.from('SCHILY.xattr.user.x='), userX, Buffer.from('\n')]);
    expect(caps.header.includes(raw)).toBe(true);
    if (canSetcap) {
      expect(caps.xattrs.get('security.capability')).toEqual(CAP_SETFCAP);
      const rawCap = Buffer.concat([Buffer.from('SCHILY.xattr.security.capability='), CAP_SETFCAP, Buffer.from('\n')]);
      expect(caps.header.includes(rawCap)).toBe(true);
    }
    expect(got.get('big-uid')!.entry).toMatchObject({ uid: 3_000_000, gid: 3_000_001 });
    expect(got.get(longFile)!.data.toString()).toBe('long\n');
    expect(got.get(nonUtf8.toString('latin1'))!.entry.type).toBe('file');
    expect(got.get('dir/file.txt')!.entry.mtime % 1).not.toBe(0); // pax mtime keeps nanoseconds
  });

  it.each(['0.0', '0.1', '1.0'])('pax sparse %s: real size, stored size, real name', async (v) => {
    const { entry, data } = byPath(await readAll(tars[`sparse-${v}`]!)).get('sparse')!;
    expect(entry.sparse?.format).toBe(`pax-${v}`);
    expect(entry.size).toBe(SPARSE_REGIONS * 65536 + (1 << 20));
    expect(entry.dataSize).toBe(data.length);
    expect(entry.dataSize).toBeGreaterThanOrEqual(SPARSE_REGIONS * 4096);
    if (v !== '1.0') expect(entry.sparse?.map?.filter((c) => c.length > 0)).toHaveLength(SPARSE_REGIONS);
  });

  it('v7 and ustar: plain trees', async () => {
    for (const name of ['v7', 'ustar']) {
      const got = byPath(await readAll(tars[name]!));
      expect(got.get('dir')!.entry.type).toBe('dir');
      expect(got.get('hard.txt')!.entry.linkname).toBe('dir/file.txt');
      expect(got.get('dir/file.txt')!.data.toString()).toBe('hello\n'.repeat(100));
    }
  });
});
