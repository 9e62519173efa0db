/** Hardlink bugs users met in other flatteners (FIELD-NOTES.md). */
import { describe, expect, it } from 'vitest';
import { flatSpecs } from '../helpers/mem-layers.js';

describe('hardlinks', () => {
  it(
    'ggcr#977, docker-squash#99, docker2aci#98, singularity#2686: target ' + 'deleted later → the link keeps the file',
    async () => {
      const flat = await flatSpecs(
        [
          { path: 'usr/bin/python3.11', content: 'interp' },
          { path: 'usr/bin/python3', type: 'hardlink', linkname: 'usr/bin/python3.11' },
        ],
        [{ path: 'usr/bin/.wh.python3.11' }],
      );
      expect(flat.get('usr/bin/python3')).toEqual({ type: 'file', content: 'interp', linkname: '' });
      expect(flat.has('usr/bin/python3.11')).toBe(false);
    },
  );

  it('ggcr#2002: target overwritten later → the untouched name keeps the old content', async () => {
    const flat = await flatSpecs(
      [
        { path: 'etc/a', content: 'layer 1' },
        { path: 'etc/b', type: 'hardlink', linkname: 'etc/a' },
      ],
      [{ path: 'etc/a', content: 'layer 2' }],
    );
    expect(flat.get('etc/a')?.content).toBe('layer 2');
    expect(flat.get('etc/b')).toEqual({ type: 'file', content: 'layer 1', linkname: '' });
  });

  it('emitted links always point at an earlier entry holding the right content', async () => {
    const flat = await flatSpecs(
      [
        { path: 'a', content: 'v1' },
        { path: 'b', type: 'hardlink', linkname: 'a' },
        { path: 'c', type: 'hardlink', linkname: 'a' },
      ],
      [{ path: '.wh.a' }],
    );
    expect([...flat]).toEqual([
      ['b', { type: 'file', content: 'v1', linkname: '' }],
      ['c', { type: 'hardlink', content: '', linkname: 'b' }],
    ]);
  });

  it('a whiteout stored as a hardlink entry is still a whiteout', async () => {
    const flat = await flatSpecs(
      [
        { path: 'x', content: 'x' },
        { path: 'y', content: 'y' },
      ],
      [{ path: '.wh.x' }, { path: '.wh.y', type: 'hardlink', linkname: '.wh.x' }],
    );
    expect([...flat.keys()]).toEqual([]);
  });
});
