import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { removeOnSignal } from '../../src/fsio/cleanup.js';
import { stageFile } from '../../src/fsio/staged-output.js';
import { coalesce, TarFileWriter, type ChunkConsumer } from '../../src/tar/archive-file-writer.js';
import { tarFileTree } from '../../src/formats/file-tree.js';
import { readAll, tempDir } from './helpers.js';

describe('cleanup on signals', () => {
  it('removes registered temporaries on SIGTERM and nothing else', async () => {
    const dir = tempDir();
    const keep = path.join(dir, 'keep');
    fs.writeFileSync(keep, 'x');
    const staged = await stageFile(path.join(dir, 'out.tar'), false);
    expect(fs.existsSync(staged.temp)).toBe(true);
    const appHandler = () => undefined; // with an application handler present, ours must not re-raise
    process.on('SIGTERM', appHandler);
    try {
      process.emit('SIGTERM', 'SIGTERM');
    } finally {
      process.off('SIGTERM', appHandler);
    }
    expect(fs.readdirSync(dir)).toEqual(['keep']);
  });

  it('uninstalls its handlers once nothing is registered', async () => {
    const before = process.listenerCount('SIGINT');
    const dir = tempDir();
    const staged = await stageFile(path.join(dir, 'x.tar'), false);
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    await staged.discard();
    expect(process.listenerCount('SIGINT')).toBe(before);
    removeOnSignal(path.join(dir, 'never-made'));
    const { forget } = await import('../../src/fsio/cleanup.js');
    forget(path.join(dir, 'never-made'));
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});

describe('TarFileWriter', () => {
  it('writes streamed members with back-patched headers, drops repeats, and indexes back', async () => {
    const file = path.join(tempDir(), 'a.tar');
    const w = await TarFileWriter.create(file);
    await w.addDirectory('blobs');
    await w.addFile('small', Buffer.from('hi'));
    const data = Buffer.alloc(3000, 7);
    const seen: (ChunkConsumer['file'] | number)[] = [];
    const stream = (consume: ChunkConsumer) => {
      seen.push(consume.file);
      return consume.write(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), (n) => seen.push(n));
    };
    await w.addStreamed(stream, (_r, size) => (size === 3000 ? 'big' : 'wrong'));
    // the consumer says where its bytes land (after the directory, "small" and the reserved header)
    expect(seen).toEqual([{ path: file, start: 512 + 1024 + 512 }, 3000]);
    await w.addStreamed(stream, () => undefined); // dropped: leaves no trace
    const size = await w.finish();
    expect(fs.statSync(file).size).toBe(size);
    expect(size).toBe(512 + 512 + 512 + 512 + 3072 + 1024);
    const tree = await tarFileTree(file);
    expect((await readAll(tree.open('big'))).equals(data)).toBe(true);
    expect((await tree.read('small')).toString()).toBe('hi');
  });

  it('coalesces small chunks', async () => {
    const parts = Array.from({ length: 100 }, () => Buffer.alloc(512, 1));
    const out: Buffer[] = [];
    for await (const c of coalesce(Readable.from(parts), 4096)) out.push(c);
    expect(out.map((b) => b.length)).toEqual([...Array(12).fill(4096), 2048]);
  });
});

describe('file tree', () => {
  it('refuses names that climb out of the tree', async () => {
    const file = path.join(tempDir(), 'a.tar');
    const w = await TarFileWriter.create(file);
    await w.addFile('ok', Buffer.from('1'));
    await w.finish();
    const tree = await tarFileTree(file);
    expect(tree.has('ok')).toBe(true);
    expect(tree.has('./ok')).toBe(true);
    expect(tree.has('../ok')).toBe(false);
    expect(tree.has('/ok')).toBe(false);
    expect(() => tree.open('missing')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
