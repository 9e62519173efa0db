import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTarFile, scanTarFile } from '../../src/tar/list-file.js';
import { buildHeader, END_OF_ARCHIVE } from '../../src/tar/writer.js';
import { buildEntry, buildTar, collectTar, plain } from '../helpers/tar-builder.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-list-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function file(name: string, bytes: Buffer): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, bytes);
  return p;
}

describe('listTarFile', () => {
  it('indexes entries; data of e lies at e.offset + e.header.length', async () => {
    const specs = Array.from({ length: 200 }, (_, i) => ({
      path: `f${i}`,
      content: Buffer.alloc(i * 37, i),
      ...(i % 50 === 0 ? { xattrs: { 'user.i': String(i) } } : {}),
    }));
    const bytes = buildTar(specs);
    const p = file('many.tar', bytes);
    const entries = await listTarFile(p);
    expect(plain(entries)).toEqual(plain((await collectTar(bytes)).map((g) => g.entry)));
    for (const [i, e] of entries.entries()) {
      const at = e.offset + e.header.length;
      expect(bytes.subarray(at, at + e.dataSize).equals(Buffer.alloc(i * 37, i))).toBe(true);
    }
  });

  it('seeks over data it never reads: a 9 GiB entry in a sparse file, size in base-256', async () => {
    const size = 9 * 2 ** 30;
    const header = buildHeader({ path: 'huge', type: 'file', mode: 0o644, size });
    expect(header.length).toBe(512);
    expect(header[124]).toBe(0x80);
    const p = path.join(tmp, 'huge.tar');
    fs.writeFileSync(p, header);
    const tail = buildTar([{ path: 'after', content: 'x' }]);
    const fd = fs.openSync(p, 'r+');
    fs.writeSync(fd, tail, 0, tail.length, 512 + size);
    fs.closeSync(fd);
    const entries = await listTarFile(p, { where: 'outer archive' });
    expect(entries.map((e) => [e.path, e.dataSize, e.offset])).toEqual([
      ['huge', size, 0],
      ['after', 1, 512 + size],
    ]);
  });

  it('fails like readTar, naming the file or `where`', async () => {
    const t = buildTar([{ path: 'a', content: 'A'.repeat(600) }]);
    await expect(listTarFile(file('cut.tar', t.subarray(0, 900)))).rejects.toMatchObject({
      code: 'TRUNCATED',
      message: expect.stringMatching(/cut\.tar: tar archive ends inside the data of "a" at byte offset 900$/),
    });
    await expect(listTarFile(file('cut2.tar', t.subarray(0, 1200)))).rejects.toMatchObject({ code: 'TRUNCATED' });
    await expect(
      listTarFile(file('json.tar', Buffer.from('{"not":"a tar"}')), { where: 'manifest' }),
    ).rejects.toMatchObject({
      code: 'NOT_A_TAR',
      message: expect.stringMatching(/^manifest: /),
    });
    const eoa = Buffer.concat([buildEntry({ path: 'a' }), Buffer.from(END_OF_ARCHIVE)]);
    eoa[600] = 1;
    await expect(listTarFile(file('cs.tar', eoa))).rejects.toMatchObject({ code: 'BAD_CHECKSUM' });
    await expect(listTarFile(path.join(tmp, 'missing.tar'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('accepts an empty file and a file without end-of-archive blocks', async () => {
    expect(await listTarFile(file('empty.tar', Buffer.alloc(0)))).toEqual([]);
    const t = buildTar([{ path: 'a', content: 'A' }], { end: false });
    expect((await listTarFile(file('noend.tar', t))).map((e) => e.path)).toEqual(['a']);
  });
});

describe('scanTarFile', () => {
  it('reads a tar lying inside a larger file, one entry at a time, with offsets relative to its start', async () => {
    const inner = buildTar([
      { path: 'a', content: 'x'.repeat(700) },
      { path: 'b/', type: 'dir' },
      { path: 'b/c', content: 'c' },
    ]);
    const before = Buffer.alloc(1536, 0x41);
    const p = file('nested.bin', Buffer.concat([before, inner, Buffer.alloc(4096, 0x42)]));
    const seen: string[] = [];
    for await (const e of scanTarFile(p, { start: before.length, length: inner.length }))
      seen.push(`${e.path}@${e.offset}`);
    const expected = (await collectTar(inner)).map((e) => `${e.entry.path}@${e.entry.offset}`);
    expect(seen).toEqual(expected);
  });
});
