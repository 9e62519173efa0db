/** --dedupe: identical files written once, later names as hardlinks of the first; verify allows it. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { flatten } from '../../src/flatten/flatten.js';
import { inspect } from '../../src/inspect/inspect.js';
import { readTar } from '../../src/tar/reader.js';
import { verify } from '../../src/verify/verify.js';
import { buildTar } from '../helpers/tar-builder.js';
import { archiveFile } from '../transports/handmade.js';
import { tempDir } from '../transports/helpers.js';

const X = 'same bytes\n'.repeat(100);
const Y = 'SAME BYTES\n'.repeat(100); // the same size, other bytes

const archive = archiveFile;

/** The flat layer's entries: path → [type, linkname, mtime, size]. */
async function flatEntries(file: string): Promise<Map<string, [string, string, number, number]>> {
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' })) as [
    { Layers: string[] },
  ];
  const layer = execFileSync('tar', ['-xOf', file, manifest[0].Layers[0]!], { maxBuffer: 1 << 26 });
  const out = new Map<string, [string, string, number, number]>();
  for await (const { entry } of readTar(
    (async function* () {
      yield layer;
    })(),
  ))
    out.set(entry.path, [entry.type, entry.linkname, entry.mtime, entry.size]);
  return out;
}

describe('flatten --dedupe', () => {
  const layers = () => [
    buildTar([
      { path: 'usr/' },
      { path: 'usr/a', content: X, mtime: 100 },
      { path: 'usr/b', content: X, mtime: 200 },
      { path: 'usr/c', content: X, mode: 0o755 }, // another mode
      { path: 'usr/d', content: Y }, // other bytes
      { path: 'usr/e', content: X, xattrs: { 'user.k': 'v' } }, // other xattrs
      { path: 'usr/g', content: X, uid: 7 }, // another owner
      { path: 'usr/h', content: X }, // has a hardlink: keeps its own inode
      { path: 'usr/hl', type: 'hardlink', linkname: 'usr/h' },
      { path: 'usr/empty1', content: '' },
      { path: 'usr/empty2', content: '' },
      { path: 'usr/gone', content: X },
    ]),
    buildTar([{ path: 'usr/' }, { path: 'usr/f', content: X, mtime: 300 }, { path: 'usr/.wh.gone' }]),
  ];

  it('writes later names of a file as hardlinks of the first written, with its mtime; verifies', async () => {
    const dir = tempDir();
    const source = archive(dir, layers());
    const dest = path.join(dir, 'flat.tar');
    const r = await flatten({ source, dest, dedupe: true, verify: true });
    expect(r.verified).toBe(true);
    expect(r.entries.deduped).toEqual({ files: 2, bytes: 2 * X.length });
    const flat = await flatEntries(dest);
    // the top layer is written first: usr/f is the file, usr/a and usr/b name it
    expect(flat.get('usr/f')).toEqual(['file', '', 300, X.length]);
    expect(flat.get('usr/a')).toEqual(['hardlink', 'usr/f', 300, 0]);
    expect(flat.get('usr/b')).toEqual(['hardlink', 'usr/f', 300, 0]);
    for (const p of ['usr/c', 'usr/d', 'usr/e', 'usr/g', 'usr/h', 'usr/empty1', 'usr/empty2']) {
      expect(flat.get(p)?.[0], p).toBe('file');
    }
    expect(flat.get('usr/hl')?.[0]).toBe('hardlink');
    expect(flat.has('usr/gone')).toBe(false);
    // plain verify tells the difference; only --dedupe's tolerance accepts it
    const plain = await verify({ a: source, b: dest });
    expect(plain.equal).toBe(false);
    expect(Object.keys(plain.counts).sort()).toEqual(['hardlink', 'mtime']);
  });

  it('inspect --dedupe says what flatten --dedupe saves', async () => {
    const dir = tempDir();
    const source = archive(dir, layers());
    expect((await inspect({ source, dedupe: true })).dedupe).toEqual({ files: 2, bytes: 2 * X.length });
    expect((await inspect({ source })).dedupe).toBeUndefined();
  });

  it('changes nothing without --dedupe, and says nothing was saved', async () => {
    const dir = tempDir();
    const source = archive(dir, layers());
    const r = await flatten({ source, dest: path.join(dir, 'flat.tar') });
    expect(r.entries.deduped).toEqual({ files: 0, bytes: 0 });
    expect((await verify({ a: source, b: path.join(dir, 'flat.tar') })).equal).toBe(true);
  });

  it('gives the same bytes planned (stdout archives need the size first) as written', async () => {
    const dir = tempDir();
    const source = archive(dir, layers());
    const out = fs.openSync(path.join(dir, 'stdout.tar'), 'w');
    const stdout = fs.createWriteStream('', { fd: out });
    const r = await flatten({ source, dest: '-', dedupe: true, stdout });
    await new Promise((res) => stdout.end(res));
    expect(r.entries.deduped.files).toBe(2);
    expect((await flatEntries(path.join(dir, 'stdout.tar'))).get('usr/a')?.[0]).toBe('hardlink');
  });
});
