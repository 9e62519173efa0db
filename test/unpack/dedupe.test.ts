/** unpack --dedupe: identical files land as one inode with the first name's mtime. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unpack } from '../../src/unpack/unpack.js';
import { buildTar } from '../helpers/tar-builder.js';
import { archiveFile } from '../transports/handmade.js';
import { tempDir } from '../transports/helpers.js';

const X = 'same bytes\n'.repeat(100);

const archive = archiveFile;

describe('unpack --dedupe', () => {
  it('makes later names of a file hardlinks of the first written, keeping its mtime; others stay apart', async () => {
    const dir = tempDir();
    const source = archive(dir, [
      buildTar([
        { path: 'usr/' },
        { path: 'usr/a', content: X, mtime: 100 },
        { path: 'usr/b', content: X, mtime: 200 },
        { path: 'usr/c', content: X, mode: 0o755 },
      ]),
      buildTar([{ path: 'usr/' }, { path: 'usr/f', content: X, mtime: 300 }]),
    ]);
    const root = path.join(dir, 'rootfs');
    const r = await unpack({ source, dir: root, dedupe: true, chown: process.getuid?.() === 0 });
    expect(r.deduped).toEqual({ files: 2, bytes: 2 * X.length });
    const st = (p: string) => fs.lstatSync(path.join(root, p));
    expect(st('usr/a').ino).toBe(st('usr/f').ino);
    expect(st('usr/b').ino).toBe(st('usr/f').ino);
    expect(st('usr/c').ino).not.toBe(st('usr/f').ino);
    expect(st('usr/f').nlink).toBe(3);
    expect(Math.floor(st('usr/a').mtimeMs / 1000)).toBe(300);
    expect(fs.readFileSync(path.join(root, 'usr/b'), 'utf8')).toBe(X);

    const plain = await unpack({ source, dir: path.join(dir, 'plain'), chown: process.getuid?.() === 0 });
    expect(plain.deduped).toEqual({ files: 0, bytes: 0 });
    expect(fs.lstatSync(path.join(dir, 'plain/usr/a')).nlink).toBe(1);
  });
});
