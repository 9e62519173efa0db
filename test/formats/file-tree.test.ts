import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { TarFileWriter } from '../../src/tar/archive-file-writer.js';
import { tarFileTree } from '../../src/formats/file-tree.js';
import { tempDir } from '../transports/helpers.js';

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
    expect(() => tree.locate('missing')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
