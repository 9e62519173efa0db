import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { TarFileWriter } from '../../src/tar/archive-file-writer.js';
import { directoryTree, tarFileTree } from '../../src/formats/file-tree.js';
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

describe('directory tree', () => {
  it('reads a document whole while another process keeps replacing it (an index.json under update)', async () => {
    const dir = tempDir();
    const index = path.join(dir, 'index.json');
    fs.writeFileSync(index, JSON.stringify({ manifests: [] }));
    const script = `
      const fs = require('fs');
      for (let n = 0; ; n++) {
        fs.writeFileSync(${JSON.stringify(`${index}.new`)}, JSON.stringify({ manifests: 'x'.repeat(n % 700) }));
        fs.renameSync(${JSON.stringify(`${index}.new`)}, ${JSON.stringify(index)});
      }`;
    const writer = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    try {
      const problems: string[] = [];
      let reads = 0;
      for (const end = Date.now() + 1500; Date.now() < end; reads++) {
        await directoryTree(dir)
          .readJSON('index.json')
          .catch((err: Error) => problems.push(err.message));
      }
      expect(problems.slice(0, 3)).toEqual([]);
      expect(reads).toBeGreaterThan(50);
    } finally {
      writer.kill('SIGKILL');
    }
  });
});
