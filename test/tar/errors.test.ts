import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { LayerflatError } from '../../src/errors.js';
import { listTarFile } from '../../src/tar/list-file.js';
import { encodePaxRecords } from '../../src/tar/pax.js';
import { buildHeader } from '../../src/tar/writer.js';
import { rechunk } from '../helpers/rechunk.js';
import { buildEntry, buildTar, collectTar, fixChecksum } from '../helpers/tar-builder.js';

const where = 'layer 3 (sha256:abcd)';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-tar-errors-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
function fileOf(name: string, bytes: Buffer): string {
  fs.writeFileSync(path.join(tmp, name), bytes);
  return path.join(tmp, name);
}

/** Read fully in one chunk, in 1-byte chunks and in random chunks; all must fail the same way. */
async function failure(tar: Buffer): Promise<LayerflatError> {
  const errors: LayerflatError[] = [];
  for (const input of [rechunk(tar, tar.length || 1), rechunk(tar, 'bytes'), rechunk(tar, 'random', 7)]) {
    try {
      await collectTar(input, where);
    } catch (err) {
      expect(err).toBeInstanceOf(LayerflatError);
      errors.push(err as LayerflatError);
      continue;
    }
    throw new Error('expected the read to fail');
  }
  expect(errors[1]!.message).toBe(errors[0]!.message);
  expect(errors[2]!.message).toBe(errors[0]!.message);
  expect(errors[0]!.message).not.toContain('\n');
  expect(errors[0]!.message.startsWith(`${where}: `)).toBe(true);
  return errors[0]!;
}

function offsetOf(err: Error): number {
  return Number(/at byte offset (\d+)$/.exec(err.message)?.[1]);
}

const two = buildTar([
  { path: 'a', content: 'A'.repeat(600) },
  { path: 'b', content: 'B'.repeat(10) },
]);
const bAt = 512 + 1024; // offset of b's header

describe('NOT_A_TAR', () => {
  it('refuses random bytes', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff));
    const err = await failure(bytes);
    expect(err.code).toBe('NOT_A_TAR');
    expect(offsetOf(err)).toBe(0);
  });

  it('refuses a JSON file, naming it', async () => {
    const err = await failure(Buffer.from(JSON.stringify({ schemaVersion: 2, layers: new Array(60).fill('x') })));
    expect(err.code).toBe('NOT_A_TAR');
    expect(err.message).toMatch(/looks like JSON/);
  });

  it('refuses a short JSON file', async () => {
    const err = await failure(Buffer.from('{"a":1}'));
    expect(err.code).toBe('NOT_A_TAR');
  });

  it('recognises compressed data', async () => {
    expect((await failure(gzipSync(two))).message).toMatch(/gzip/);
  });
});

describe('TRUNCATED', () => {
  it('in the first header', async () => {
    const err = await failure(two.subarray(0, 300));
    expect(err.code).toBe('TRUNCATED');
  });

  it('in a later header', async () => {
    const err = await failure(two.subarray(0, bAt + 100));
    expect(err.code).toBe('TRUNCATED');
    expect(offsetOf(err)).toBe(bAt + 100);
  });

  it('in the data', async () => {
    const err = await failure(two.subarray(0, 512 + 300));
    expect(err.code).toBe('TRUNCATED');
    expect(err.message).toMatch(/data of "a"/);
    expect(offsetOf(err)).toBe(812);
  });

  it('not when only the padding after whole data is missing (umoci insert ends layers so)', async () => {
    const first = (await collectTar(two))[0]!;
    const cut = two.subarray(0, first.entry.header.length + first.entry.dataSize);
    const entries = await collectTar(cut);
    expect(entries.map((e) => e.entry.path)).toEqual([first.entry.path]);
    expect(entries[0]!.data.toString('hex')).toBe(first.data.toString('hex'));
  });

  it('between a pax header and its entry', async () => {
    const t = buildEntry({ path: 'p', xattrs: { 'user.a': 'b' } });
    const err = await failure(t.subarray(0, 1024));
    expect(err.code).toBe('TRUNCATED');
  });

  it('in pax data', async () => {
    const t = buildEntry({ path: 'p', xattrs: { 'user.a': 'b' } });
    expect((await failure(t.subarray(0, 600))).code).toBe('TRUNCATED');
  });
});

describe('BAD_CHECKSUM', () => {
  it('reports the header offset', async () => {
    const t = Buffer.from(two);
    t[bAt + 3]! ^= 0x01;
    const err = await failure(t);
    expect(err.code).toBe('BAD_CHECKSUM');
    expect(offsetOf(err)).toBe(bAt);
  });

  it('a corrupt first ustar header is a checksum error, not "not a tar"', async () => {
    const t = Buffer.from(two);
    t[5]! ^= 0x01;
    expect((await failure(t)).code).toBe('BAD_CHECKSUM');
  });

  it('accepts a signed checksum (old Sun tar)', async () => {
    const t = buildTar([{ path: 'caf\xe9\xff', content: 'x', format: 'gnu' }]);
    let signed = 8 * 0x20;
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) signed += t[i]! > 127 ? t[i]! - 256 : t[i]!;
    t.write(`${signed.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const [got] = await collectTar(t);
    expect(got!.entry.path).toBe('caf\xe9\xff');
  });
});

describe('BAD_PATH', () => {
  it.each([
    ['a ".." component that climbs above the root', { path: 'a/../../etc/passwd' }],
    ['a hardlink out of the root', { path: 'l', type: 'hardlink' as const, linkname: '../x' }],
  ])('refuses %s, at the entry offset', async (_, spec) => {
    const t = Buffer.concat([buildEntry({ path: 'ok', content: 'x' }), buildTar([spec])]);
    const err = await failure(t);
    expect(err.code).toBe('BAD_PATH');
    expect(offsetOf(err)).toBe(1024);
  });

  it('refuses ".." arriving through a pax path', async () => {
    const t = buildTar([{ path: 'x', pax: [{ key: 'path', value: Buffer.from('../../root/.ssh/authorized_keys') }] }]);
    expect((await failure(t)).code).toBe('BAD_PATH');
  });

  it('re-roots an absolute name or hardlink target as docker and podman do (umoci hardlink tests)', async () => {
    const got = await collectTar(
      buildTar([
        { path: '/etc/passwd', content: 'x' },
        { path: 'l', type: 'hardlink', linkname: '/etc/passwd' },
        { path: 'a/../b', content: 'y' },
      ]),
    );
    expect(got.map((g) => [g.entry.path, g.entry.linkname])).toEqual([
      ['etc/passwd', ''],
      ['l', 'etc/passwd'],
      ['b', ''],
    ]);
  });

  it('leaves symlink targets alone', async () => {
    const [got] = await collectTar(buildTar([{ path: 'l', type: 'symlink', linkname: '/../../etc' }]));
    expect(got!.entry.linkname).toBe('/../../etc');
  });
});

describe('BAD_TAR', () => {
  it('refuses a lone zero block followed by more entries, as the engines do (Go archive/tar)', async () => {
    const a = buildEntry({ path: 'a', content: 'A' });
    const b = buildEntry({ path: 'b', content: 'B' });
    const lone = Buffer.concat([a, Buffer.alloc(512), b, Buffer.alloc(1024)]);
    const err = await failure(lone);
    expect(err.code).toBe('BAD_TAR');
    expect(err.message).toMatch(/lone zero block/);
    expect(offsetOf(err)).toBe(a.length + 512);
    await expect(listTarFile(fileOf('lone.tar', lone))).rejects.toMatchObject({ code: 'BAD_TAR' });
    // two zero blocks are the end: what follows is not read as entries (both engines drop it too)
    const ended = await collectTar(Buffer.concat([a, Buffer.alloc(1024), b]));
    expect(ended.map((e) => e.entry.path)).toEqual(['a']);
  });

  it('refuses a malformed pax record', async () => {
    const t = buildTar([{ path: 'x', content: 'x', xattrs: { 'user.a': 'b' } }]);
    t.write('9', 512, 'latin1'); // "2x" length becomes "9x": no longer consistent
    const err = await failure(t);
    expect(err.code).toBe('BAD_TAR');
    expect(err.message).toMatch(/malformed pax record/);
    expect(offsetOf(err)).toBe(512);
  });

  it('refuses a non-numeric pax size', async () => {
    const t = buildTar([{ path: 'x', pax: [{ key: 'size', value: Buffer.from('12abc') }] }]);
    expect((await failure(t)).code).toBe('BAD_TAR');
  });

  it('refuses a bad octal field with a valid checksum', async () => {
    const t = buildTar([{ path: 'x', content: 'x' }]);
    t.write('00000z00001\0', 124, 'latin1');
    fixChecksum(t);
    const err = await failure(t);
    expect(err.code).toBe('BAD_TAR');
    expect(err.message).toMatch(/bad size field/);
  });

  it('refuses an end-of-archive block right after a pax header', async () => {
    const pax = encodePaxRecords([{ key: 'path', value: Buffer.from('x') }]);
    const h = buildHeader({ path: 'PaxHeaders/x', type: 'file', mode: 0o644, size: pax.length });
    h[156] = 0x78;
    fixChecksum(h);
    const t = Buffer.concat([h, pax, Buffer.alloc(512 - pax.length), Buffer.alloc(1024)]);
    expect((await failure(t)).code).toBe('BAD_TAR');
  });
});
