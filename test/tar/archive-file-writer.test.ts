import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ChunkConsumer } from '../../src/bytes/consumer.js';
import { rangeChunks } from '../../src/bytes/file-range.js';
import { TarFileWriter } from '../../src/tar/archive-file-writer.js';
import { tarFileTree } from '../../src/formats/file-tree.js';
import { readAll, tempDir } from '../transports/helpers.js';

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
    expect((await readAll(rangeChunks(tree.locate('big')))).equals(data)).toBe(true);
    expect((await tree.read('small')).toString()).toBe('hi');
  });
});
