import { describe, expect, it } from 'vitest';
import { checkFlat, canonical } from '../../src/reclaim/check.js';
import {
  asRecord,
  decideRecovery,
  finalStep,
  moveSteps,
  rollbackSteps,
  type JournalRecord,
} from '../../src/reclaim/journal.js';
import type { StoredImage } from '../../src/transports/types.js';

const O = 'a'.repeat(64);
const F = 'f'.repeat(64);
const TEMP = 'localhost/layerflat-reclaim/aaaaaaaaaaaa:flat';
const DIFF = `sha256:${'d'.repeat(64)}`;
const NAMES = ['localhost/app:1', 'localhost/app:2'];

const record = (phase: JournalRecord['phase']): JournalRecord => ({
  version: 1,
  originalId: O,
  names: NAMES,
  tempName: TEMP,
  phase,
  flatId: F,
  flatDiffId: DIFF,
  startedAt: '2026-01-01T00:00:00Z',
});
const image = (id: string, names: string[], layers = [DIFF], config: unknown = { Cmd: ['x'] }): StoredImage => ({
  id,
  names,
  layers,
  size: 1,
  config,
});
const original = (names = NAMES) => image(O, names, ['sha256:1', 'sha256:2']);
const flat = (names: string[]) => image(F, names);

describe('reclaim journal: recovery of what a killed run left', () => {
  it('reads only well-formed records', () => {
    expect(asRecord(record('verified'))).toEqual(record('verified'));
    for (const bad of [undefined, {}, { ...record('verified'), version: 2 }, { ...record('verified'), phase: 'x' }]) {
      expect(asRecord(bad)).toBeUndefined();
    }
    expect(asRecord({ ...record('planned'), originalId: 'nope' })).toBeUndefined();
  });

  it('rolls back a planned record: the temporary image goes, the original is untouched', () => {
    const d = decideRecovery(record('planned'), { original: original(), flat: flat([TEMP]), originalUsers: 0 });
    expect(d).toMatchObject({ kind: 'rollback', steps: [{ kind: 'remove', id: F, what: 'temporary' }] });
    // killed before the load: nothing to remove
    expect(decideRecovery(record('planned'), { original: original(), originalUsers: 0 })).toMatchObject({
      kind: 'rollback',
      steps: [],
    });
  });

  it('never removes an unverified image that carries a user name: only the temporary name goes', () => {
    expect(rollbackSteps(record('planned'), flat([TEMP, 'localhost/mine:1']))).toEqual([{ kind: 'untag', name: TEMP }]);
    expect(rollbackSteps(record('planned'), flat(['localhost/mine:1']))).toEqual([]);
  });

  it('checks a loaded image again, and finishes a verified or tags-moved one', () => {
    const seen = { original: original(), flat: flat([TEMP]), originalUsers: 0 };
    expect(decideRecovery(record('loaded'), seen).kind).toBe('recheck');
    expect(decideRecovery(record('verified'), seen).kind).toBe('finish');
    expect(decideRecovery(record('tags-moved'), { ...seen, original: original([]) }).kind).toBe('finish');
  });

  it('moves only the names still on the original, then drops the temporary name', () => {
    const seen = { original: original(['localhost/app:2']), flat: flat([TEMP, 'localhost/app:1']), originalUsers: 0 };
    expect(moveSteps(record('verified'), seen)).toEqual([
      { kind: 'tag', id: F, name: 'localhost/app:2' },
      { kind: 'untag', name: TEMP },
    ]);
  });

  it('removes a flat image that would be left with no name while the original is still there', () => {
    const seen = { original: original([]), flat: flat([TEMP]), originalUsers: 0 };
    expect(moveSteps(record('verified'), seen)).toEqual([{ kind: 'remove', id: F, what: 'temporary' }]);
    expect(moveSteps(record('verified'), { ...seen, original: undefined })).toEqual([{ kind: 'untag', name: TEMP }]);
  });

  it('removes the original only with no name and no container', () => {
    const r = record('tags-moved');
    const f = flat(NAMES);
    expect(finalStep(r, { original: original([]), flat: f, originalUsers: 0 })).toEqual({
      kind: 'remove',
      id: O,
      what: 'original',
    });
    expect(finalStep(r, { original: original([]), flat: f, originalUsers: 1 })).toBe('kept');
    expect(finalStep(r, { original: original(['localhost/other:1']), flat: f, originalUsers: 0 })).toBe('kept');
    expect(finalStep(r, { flat: f, originalUsers: 0 })).toBe('gone');
  });

  it('at every step of a run, each name is on the original or on the verified flat image', () => {
    // replay the steps of a whole run one at a time, as a kill could cut it anywhere
    const r = record('verified');
    let o = original();
    let f = flat([TEMP]);
    const steps = moveSteps(r, { original: o, flat: f, originalUsers: 0 });
    for (const s of steps) {
      if (s.kind === 'tag')
        [o, f] = [
          { ...o, names: o.names.filter((n) => n !== s.name) },
          { ...f, names: [...f.names, s.name] },
        ];
      if (s.kind === 'untag') f = { ...f, names: f.names.filter((n) => n !== s.name) };
      for (const n of NAMES) expect(o.names.includes(n) || f.names.includes(n)).toBe(true);
    }
    expect(f.names).toEqual(NAMES);
    expect(o.names).toEqual([]);
  });
});

describe('reclaim check of the loaded image', () => {
  it('passes one layer with the verified diff_id and the same Config (key order aside)', () => {
    const o = image(O, NAMES, ['sha256:1', 'sha256:2'], { Cmd: ['x'], Env: ['A=1'] });
    expect(checkFlat(o, image(F, [TEMP], [DIFF], { Env: ['A=1'], Cmd: ['x'] }), DIFF)).toEqual([]);
  });

  it('fails another layer, more layers, another Config, or the original itself', () => {
    const o = image(O, NAMES, ['sha256:1', 'sha256:2']);
    expect(checkFlat(o, image(F, [], ['sha256:9']), DIFF)).toEqual([`its layer is sha256:9, not ${DIFF}`]);
    expect(checkFlat(o, image(F, [], [DIFF, DIFF]), DIFF)).toEqual(['it has 2 layers, not 1']);
    expect(checkFlat(o, image(F, [], [DIFF], { Cmd: ['y'] }), DIFF)).toEqual(['its Config differs from the original']);
    expect(checkFlat(o, { ...o, layers: [DIFF] }, DIFF)).toEqual(['it is the original itself']);
    expect(canonical({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});
