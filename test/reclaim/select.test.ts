import { describe, expect, it } from 'vitest';
import {
  globRegExp,
  isTempName,
  matchesPatterns,
  parseBytes,
  parseMinSaving,
  savingShortfall,
  selectImages,
  tempName,
} from '../../src/reclaim/select.js';
import type { VfsCost } from '../../src/inspect/types.js';
import type { StoredImage } from '../../src/transports/types.js';

const id = (c: string) => c.repeat(64);
const img = (c: string, names: string[], layers: number): StoredImage => ({
  id: id(c),
  names,
  layers: Array.from({ length: layers }, (_, i) => `sha256:${String(i).repeat(64).slice(0, 64)}`),
  size: 1000,
  config: {},
});

describe('reclaim selection', () => {
  it('parses --min-saving as binary-unit bytes or a factor', () => {
    expect(parseMinSaving('500M')).toEqual({ bytes: 500 * 2 ** 20 });
    expect(parseMinSaving('2G')).toEqual({ bytes: 2 * 2 ** 30 });
    expect(parseMinSaving('1.5GiB')).toEqual({ bytes: 1.5 * 2 ** 30 });
    expect(parseMinSaving('123456')).toEqual({ bytes: 123456 });
    expect(parseMinSaving('2x')).toEqual({ factor: 2 });
    expect(parseMinSaving('1.25X')).toEqual({ factor: 1.25 });
    for (const bad of ['', 'x', '0.5x', '-1', '2 apples', '5P'])
      expect(() => parseMinSaving(bad)).toThrow(/USAGE|--min/);
  });

  it('reads sizes in bytes with binary units, and nothing else (--reserve)', () => {
    expect(parseBytes('1M')).toBe(2 ** 20);
    expect(parseBytes('256MiB')).toBe(256 * 2 ** 20);
    expect(parseBytes(' 0 ')).toBe(0);
    for (const bad of ['', '2x', '-1', '1P', 'lots']) expect(parseBytes(bad)).toBeUndefined();
  });

  it('matches shell globs on the name, without localhost/, and on the repository alone', () => {
    expect(globRegExp('a*').test('abc/d')).toBe(true);
    expect(globRegExp('a?c').test('abc')).toBe(true);
    expect(globRegExp('[ab]x').test('bx')).toBe(true);
    expect(globRegExp('[!ab]x').test('bx')).toBe(false);
    expect(globRegExp('a.b').test('axb')).toBe(false);
    expect(matchesPatterns(['localhost/app:1'], ['app'])).toBe(true);
    expect(matchesPatterns(['localhost/app:1'], ['app:1'])).toBe(true);
    expect(matchesPatterns(['localhost/app:1'], ['app:2'])).toBe(false);
    expect(matchesPatterns(['localhost/app:1'], ['localhost/*'])).toBe(true);
    expect(matchesPatterns(['docker.io/library/x:1'], ['*/x'])).toBe(true);
    expect(matchesPatterns(['anything'], [])).toBe(true);
  });

  it('skips flat, nameless, journaled, few-layer and unmatched images, and its own temporary ones', () => {
    const images = [
      img('a', ['localhost/app:1'], 19),
      img('b', ['localhost/flat:1'], 1),
      img('c', [], 5),
      img('d', ['localhost/busy:1'], 5),
      img('e', ['localhost/small:1'], 3),
      img('f', [tempName(id('a'))], 1),
    ];
    const { chosen, skipped } = selectImages(images, { minLayers: 4 }, new Set([id('d')]));
    expect(chosen.map((i) => i.names[0])).toEqual(['localhost/app:1']);
    expect(skipped.map((s) => [s.image.id[0], s.reason])).toEqual([
      ['b', 'already flat (1 layer)'],
      ['c', 'it has no name'],
      ['d', 'a reclaim of it is in the journal'],
      ['e', '3 layers, fewer than --min-layers 4'],
    ]);
    // with patterns, only the images they name are reported
    const named = selectImages(images, { patterns: ['flat', 'app'] });
    expect(named.chosen.map((i) => i.id[0])).toEqual(['a']);
    expect(named.skipped.map((s) => s.image.id[0])).toEqual(['b']);
  });

  it('never takes fewer than 2 layers, whatever --min-layers says', () => {
    expect(selectImages([img('a', ['x:1'], 1)], { minLayers: 0 }).chosen).toEqual([]);
  });

  it('compares the predicted saving with --min-saving, in bytes or as a factor', () => {
    const vfs = { savingBytes: 1000, savingFactor: 3 } as VfsCost;
    expect(savingShortfall(vfs, undefined)).toBeUndefined();
    expect(savingShortfall(vfs, { bytes: 1000 })).toBeUndefined();
    expect(savingShortfall(vfs, { bytes: 1001 })).toMatch(/under --min-saving 1001/);
    expect(savingShortfall(vfs, { factor: 3 })).toBeUndefined();
    expect(savingShortfall(vfs, { factor: 3.5 })).toMatch(/3\.00x, under --min-saving 3\.5x/);
  });

  it('names the temporary image after the original', () => {
    expect(tempName(id('a'))).toBe('localhost/layerflat-reclaim/aaaaaaaaaaaa:flat');
    expect(isTempName(tempName(id('b')))).toBe(true);
    expect(isTempName('localhost/layerflat-reclaim/x:flat')).toBe(false);
  });
});
