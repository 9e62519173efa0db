import { describe, expect, it } from 'vitest';
import { EngineModel, type ModelEntry, type Overrides } from '../../src/engine/model.js';

const f = (path: string): ModelEntry => ({ path, type: 'file', linkname: '' });
const d = (path: string): ModelEntry => ({ path, type: 'dir', linkname: '' });
const sym = (path: string, to: string): ModelEntry => ({ path, type: 'symlink', linkname: to });
const hl = (path: string, to: string): ModelEntry => ({ path, type: 'hardlink', linkname: to });

/** The model's overrides for `layers` (bottom first), as plain objects by "layer:ordinal". */
function overrides(layers: ModelEntry[][]): Record<string, object> {
  const model = new EngineModel();
  layers.forEach((entries, i) => {
    model.startLayer(i);
    entries.forEach((e, o) => model.apply(e, o));
    model.endLayer();
  });
  const out: Record<string, object> = {};
  const all: Overrides = model.overrides();
  for (const [layer, byOrdinal] of all) for (const [o, v] of byOrdinal) out[`${layer}:${o}`] = v;
  return out;
}

describe('EngineModel: what the flat layer must say differently', () => {
  it('re-roots names written through a symlink, and hardlink targets likewise', () => {
    expect(
      overrides([
        [d('real'), sym('link', 'real')],
        [f('link/x'), hl('link/y', 'link/x')],
      ]),
    ).toEqual({
      '1:0': { path: 'real/x' },
      '1:1': { path: 'real/y', linkname: 'real/x' },
    });
  });

  it('drops what a later entry of the same layer removed', () => {
    // a file read as a whiteout of its path: it had replaced what lower layers have there
    expect(overrides([[f('a'), f('b'), { ...f('.wh.a') }]])).toEqual({ '0:0': { drop: true, asWhiteout: true } });
  });

  it('drops markers that found nothing to act on: under a dangling symlink, on a file', () => {
    expect(
      overrides([
        [sym('gone', 'nowhere'), f('file')],
        [f('gone/.wh.x'), f('file/.wh..wh..opq')],
      ]),
    ).toEqual({
      '1:0': { drop: true },
      '1:1': { drop: true },
    });
  });

  it("moves a file's content to its next name when the name holding it is overwritten in its layer", () => {
    // b/c holds the content, c links to it, then a/c (a -> b) overwrites b/c with a new file:
    // the engines keep the old content under c, so c must carry it, and b/c is the new file.
    expect(
      overrides([
        [sym('a', 'b'), d('b')],
        [f('b/c'), hl('c', 'b/c'), f('a/c')],
      ]),
    ).toEqual({
      '1:0': { path: 'c' },
      '1:1': { drop: true },
      '1:2': { path: 'b/c' },
    });
  });

  it('points every link at the name holding the content, so any other name may go first', () => {
    // a/c (a -> c) is c/c; b/a links to it; the directory c/c then replaces that link.
    expect(
      overrides([
        [sym('a', 'c'), d('c')],
        [f('x'), hl('a/c', 'x'), hl('b/a', 'a/c'), d('c/c')],
      ]),
    ).toEqual({
      '1:1': { path: 'c/c', drop: true, asWhiteout: true },
      '1:2': { linkname: 'x' },
    });
  });

  it('keeps one entry for a directory named twice in a layer (once through a symlink): the later', () => {
    expect(
      overrides([
        [d('b'), sym('a', 'b')],
        [d('b/a'), d('a/a')],
      ]),
    ).toEqual({
      '1:0': { drop: true },
      '1:1': { path: 'b/a' },
    });
  });

  it("moves a lower file's content to the name a later layer linked to it, when its own name is replaced", () => {
    // t (layer 0); layer 1: h -> t, then a new t: the engines keep the old content under h only.
    expect(overrides([[f('t')], [hl('h', 't'), f('t')]])).toEqual({
      '0:0': { path: 'h', holdsContent: true },
      '1:0': { drop: true },
    });
  });

  it('moves it to the earliest remaining name, and points the other names at it', () => {
    // layer 1: h1 -> t, h2 -> t; layer 2 deletes t: h1 holds the content, h2 links to h1.
    expect(overrides([[f('t')], [hl('h1', 't'), hl('h2', 't')], [f('.wh.t')]])).toEqual({
      '0:0': { path: 'h1', holdsContent: true },
      '1:0': { drop: true },
      '1:1': { linkname: 'h1' },
    });
  });
});
