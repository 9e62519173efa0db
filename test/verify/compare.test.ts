/** compareViews on views built from layers in memory. */
import { describe, expect, it } from 'vitest';
import { compareViews } from '../../src/verify/compare.js';
import { imageView } from '../../src/verify/image-view.js';
import { memLayer } from '../helpers/mem-layers.js';

describe('compareViews', () => {
  it('sees no difference in the order xattrs were given (a link header adds its own after the file’s)', async () => {
    const a = await imageView([
      memLayer([
        { path: 'f', content: 'x', xattrs: { 'user.b': '1' } },
        { path: 'h', type: 'hardlink', linkname: 'f', xattrs: { 'user.a': '2' } },
      ]),
    ]);
    const b = await imageView([
      memLayer([
        { path: 'f', content: 'x', xattrs: { 'user.a': '2', 'user.b': '1' } },
        { path: 'h', type: 'hardlink', linkname: 'f' },
      ]),
    ]);
    expect(compareViews(a, b)).toEqual([]);
    const c = await imageView([
      memLayer([
        { path: 'f', content: 'x', xattrs: { 'user.a': '3' } },
        { path: 'h', type: 'hardlink', linkname: 'f' },
      ]),
    ]);
    expect(compareViews(a, c).map((d) => d.kind)).toEqual(['xattrs', 'xattrs']);
  });
});
