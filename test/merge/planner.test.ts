import { describe, expect, it } from 'vitest';
import type { LayerflatError } from '../../src/errors.js';
import { randomLayers } from '../helpers/random-layers.js';
import {
  d,
  engineView,
  f,
  flatView,
  hl,
  linksPointBackwards,
  needsExactPlan,
  opq,
  plan,
  planKeepBase,
  sym,
  wh,
  type Spec,
} from '../helpers/plan-driver.js';

/**
 * Flatten with the planner and check the result equals what an engine builds — or, for layers
 * the engines refuse (a file or a dangling symlink as a parent, a loop), that both refuse them.
 */
async function flat(layers: Spec[][]): Promise<string[] | 'refused'> {
  let want: string[];
  try {
    want = engineView(layers);
  } catch (err) {
    await expect(plan(layers)).rejects.toMatchObject({ code: (err as LayerflatError).code });
    return 'refused';
  }
  const out = await plan(layers);
  expect(linksPointBackwards(out)).toBe(true);
  const view = flatView(out, layers);
  expect(view).toEqual(want);
  return view;
}

describe('MergePlanner: replacing paths', () => {
  it('lets the upper file win and keeps the lower one out of the output', async () => {
    const out = await plan([[f('a')], [f('a')]]);
    expect(out.map((e) => `${e.path}@${e.origin.layer}`)).toEqual(['a@1']);
  });

  it('merges a directory over a directory, upper metadata winning', async () => {
    expect(
      await flat([
        [d('x'), f('x/old')],
        [d('x'), f('x/new')],
      ]),
    ).toEqual(['x dir@1:0', 'x/new file@1:1', 'x/old file@0:1']);
  });

  it('wipes the whole subtree when a file replaces a directory', async () => {
    expect(await flat([[d('x'), d('x/y'), f('x/y/z')], [f('x')]])).toEqual(['x file@1:0']);
  });

  it('drops the lower file when a directory replaces it', async () => {
    expect(await flat([[f('x')], [d('x'), f('x/a')]])).toEqual(['x dir@1:0', 'x/a file@1:1']);
  });

  it('keeps a lower subtree hidden by a middle file even when the top re-creates the directory', async () => {
    expect(await flat([[d('p'), f('p/x')], [f('p')], [d('p'), f('p/y')]])).toEqual(['p dir@2:0', 'p/y file@2:1']);
  });

  it('refuses an entry below a lower file, as both engines do ("not a directory")', async () => {
    expect(await flat([[f('p')], [f('p/x')]])).toBe('refused');
    expect(await flat([[f('p')], [wh('p'), f('p/x')]])).toEqual(['p dir', 'p/x file@1:1']);
  });

  // Found by the fuzz test (test/formats/fuzz.test.ts, flatten --verify failed with "a/a (extra)"):
  // engines apply a layer in tar order, so `a` replacing the directory `a/a` was written into leaves
  // `a` alone; a directory `a` above must not bring `a/a` back. `flat` checks each against the engines' model.
  it('plans a layer that replaces a directory it wrote into as the engines apply it, whatever lies above', async () => {
    const layer = [f('a/a'), f('a')];
    expect(await flat([layer, [d('a')]])).toEqual(['a dir@1:0']);
    expect(await flat([layer, [f('a/b')]])).toBe('refused'); // below the file a
    await flat([[f('a/b/c'), sym('a/b', 'x')], [], [d('a'), d('a/b')]]);
    expect(await flat([layer])).toEqual(['a file@0:1']);
    expect(await flat([layer, [f('a')]])).toEqual(['a file@1:0']);
    expect(await flat([layer, [wh('a'), f('b')]])).toEqual(['b file@1:1']);
    expect(await flat([layer, [d('a'), opq('a'), f('a/n')]])).toEqual(['a dir@1:0', 'a/n file@1:2']);
    expect(await flat([[f('a/a'), d('a')], [d('a')]])).toEqual(['a dir@1:0', 'a/a file@0:0']);
    expect(await flat([[f('ab/a'), f('a')], [d('ab')]])).toEqual(['a file@0:1', 'ab dir@1:0', 'ab/a file@0:0']);
  });

  // Found by the fuzz test (test/merge/fuzz.test.ts): a hardlink is written at the end of its layer,
  // so an entry after it that removes its target or itself must not come first in the flat layer.
  it('plans a layer whose later entries undo a hardlink as the engines apply it', async () => {
    await flat([[f('b/a'), hl('a', 'b/a'), f('b')]]); // `b` replaces the directory holding the link's target
    await flat([[f('x'), hl('d/l', 'x'), f('d')]]); // `d` replaces the directory holding the link itself
    await flat([[f('x'), hl('a', 'x'), { ...d('a'), rooted: true }]]); // `/a` after the link `a`
    // `/b`, a file replacing the lower directory b, then the directory `b/`: b is empty (npm run fuzz)
    expect(
      await flat([
        [d('b'), f('b/a')],
        [{ ...f('b'), rooted: true }, d('b')],
      ]),
    ).toEqual(['b dir@1:1']);
    await flat([[{ ...f('c'), rooted: true }, hl('a', 'c'), d('c')]]); // `c/` after a link to `/c`
    expect(await flat([[f('b/a'), f('b'), f('x'), hl('a', 'x')]])).toEqual(['a file@0:2', 'b file@0:1', 'x file@0:2']);
  });
});

describe('MergePlanner: whiteouts', () => {
  // Found by the fuzz test (npm run fuzz, flatten --verify: "etc (missing)"): docker and podman
  // create a marker's missing parents before they read it as a marker (UnpackLayer's MkdirAll).
  it('keeps a marker whose directory nothing else in the flat layer makes', async () => {
    const paths = async (layers: Spec[][], keep = 0) =>
      (keep ? await planKeepBase(layers, keep) : await plan(layers)).map((e) => e.path);
    expect(await paths([[wh('etc/passwd')]])).toEqual(['etc/.wh.passwd']);
    expect(await paths([[opq('a/b')], [f('c')]])).toEqual(['c', 'a/b/.wh..wh..opq']);
    expect(await paths([[wh('etc/passwd')], [wh('etc')]])).toEqual([]); // deleted above: nothing to make
    expect(await paths([[wh('etc/passwd')], [f('etc/x')]])).toEqual(['etc/x']); // the file makes etc/
    expect(await paths([[opq(''), wh('a/a')]])).toEqual(['a/.wh.a']); // its layer's opaque root is below it
    expect(await paths([[opq('a'), opq('')]])).toEqual([]); // a later opaque root removes the a/ it made
    // --keep-base: a base that has the directory needs no marker either
    expect(await paths([[d('etc')], [wh('etc/passwd')]], 1)).toEqual([]);
    expect(await paths([[d('x')], [wh('etc/passwd')]], 1)).toEqual(['etc/.wh.passwd']);
  });

  it('deletes the lower path and its subtree', async () => {
    expect(await flat([[d('a'), f('a/b'), f('c')], [wh('a')]])).toEqual(['c file@0:2']);
  });

  it('applies a whiteout in tar order: it removes what its own layer wrote before it (engine-rules §7)', async () => {
    expect(await flat([[f('a')], [f('a'), wh('a')]])).toEqual([]);
    expect(await flat([[f('a')], [wh('a'), f('a')]])).toEqual(['a file@1:1']);
    expect(
      await flat([
        [d('d'), f('d/x')],
        [f('d/y'), wh('d')],
      ]),
    ).toEqual([]);
  });

  it('lets a file re-added in a later layer survive an earlier whiteout (jwilder#23)', async () => {
    expect(await flat([[f('a')], [wh('a')], [f('a')]])).toEqual(['a file@2:0']);
  });

  it('keeps files deleted from the base deleted (goldmann#42)', async () => {
    expect(await flat([[d('etc'), f('etc/secret'), f('etc/ok')], [wh('etc/secret')], [f('etc/new')]])).toEqual([
      'etc dir@0:0',
      'etc/new file@2:0',
      'etc/ok file@0:2',
    ]);
  });

  it('acts through a symlink above it, as both engines do (what stereoscope#694 met is engine behaviour)', async () => {
    expect(await flat([[d('real'), f('real/x'), sym('link', 'real')], [wh('link/x')]])).toEqual([
      'link symlink@0:2->real',
      'real dir@0:0',
    ]);
  });

  it('rejects a bare .wh.', async () => {
    await expect(plan([[f('a/.wh.')]])).rejects.toThrow(/invalid whiteout/);
  });

  it('ignores AUFS metadata entries', async () => {
    expect(await flat([[f('a')], [f('.wh..wh.plnk'), d('.wh..wh.aufs')]])).toEqual(['a file@0:0']);
  });
});

describe('MergePlanner: opaque directories', () => {
  it(
    'hides every lower child recursively but keeps the directory and ' +
      'same-layer children, wherever the marker stands',
    async () => {
      const lower = [d('o'), d('o/sub'), f('o/sub/deep'), f('o/old')];
      expect(await flat([lower, [opq('o'), d('o'), f('o/new')]])).toEqual(['o dir@1:1', 'o/new file@1:2']);
      expect(await flat([lower, [d('o'), f('o/new'), opq('o')]])).toEqual(['o dir@1:0', 'o/new file@1:1']);
    },
  );

  it('keeps the lower directory entry when the opaque layer has none of its own', async () => {
    expect(await flat([[d('o'), f('o/old')], [opq('o')]])).toEqual(['o dir@0:0']);
  });

  it('hides lower children of a directory this layer merges into (goldmann#186)', async () => {
    expect(
      await flat([
        [d('o'), d('o/s'), f('o/s/x')],
        [d('o'), d('o/s'), f('o/s/y'), opq('o')],
      ]),
    ).toEqual(['o dir@1:0', 'o/s dir@1:1', 'o/s/y file@1:2']);
  });

  it('supports an opaque marker at the root', async () => {
    expect(
      await flat([
        [f('a'), f('b')],
        [opq(''), f('c')],
      ]),
    ).toEqual(['c file@1:1']);
  });

  it('never writes the markers themselves (ggcr#1623)', async () => {
    const out = await plan([
      [d('o'), f('o/x')],
      [opq('o'), wh('z')],
    ]);
    expect(out.some((e) => e.path.includes('.wh.'))).toBe(false);
  });
});

describe('MergePlanner: hardlinks', () => {
  it('keeps the old content under the link when a later layer overwrites the target (ggcr#2002)', async () => {
    const layers = [[f('a'), hl('b', 'a')], [f('a')]];
    expect(await flat(layers)).toEqual(['a file@1:0', 'b file@0:0']);
  });

  it('keeps the file under the link when a later layer deletes the target (ggcr#977)', async () => {
    expect(await flat([[f('a'), hl('b', 'a'), hl('c', 'a')], [wh('a')]])).toEqual(['b file@0:0', 'c file@0:0']);
  });

  it('writes the content under the first surviving name and links the rest to it', async () => {
    const out = await plan([[f('a'), hl('b', 'a'), hl('c', 'b'), hl('d', 'a')], [wh('a')]]);
    expect(out.map((e) => `${e.path}:${e.type}${e.type === 'hardlink' ? '->' + e.linkname : ''}`)).toEqual([
      'b:file',
      'c:hardlink->b',
      'd:hardlink->b',
    ]);
  });

  it('re-points a surviving link at the surviving name when an intermediate link went', async () => {
    const out = await plan([[f('a'), hl('b', 'a'), hl('c', 'b')], [wh('b')]]);
    expect(out.map((e) => `${e.path}->${e.linkname}`)).toEqual(['a->', 'c->a']);
  });

  it('drops links that are themselves hidden', async () => {
    expect(await flat([[f('a'), hl('b', 'a')], [wh('b')]])).toEqual(['a file@0:0']);
  });

  it('writes a link into a lower layer after its unchanged target', async () => {
    const out = await plan([[f('a')], [hl('b', 'a')]]);
    expect(out.map((e) => e.path)).toEqual(['a', 'b']);
  });

  it('moves the content of a link into a lower layer whose target a later layer changed under the link', async () => {
    expect(await flat([[f('a')], [hl('b', 'a')], [f('a')]])).toEqual(['a file@2:0', 'b file@0:0']);
  });

  it('refuses that link with --keep-base when the target is in a kept layer (copied as stored)', async () => {
    await expect(planKeepBase([[f('a')], [hl('b', 'a')], [f('a')]], 1)).rejects.toThrow(/outside its layer/);
  });
});

describe('MergePlanner: one pass where one pass is exact', () => {
  it('needs no exact plan for a lower file or symlink a layer replaced before writing below it', async () => {
    for (const lower of [f('p'), sym('p', 'elsewhere')]) {
      expect(await needsExactPlan([[lower], [wh('p'), f('p/x')]])).toBe(false);
      expect(await needsExactPlan([[lower], [d('p'), f('p/x')]])).toBe(false);
      expect(await needsExactPlan([[lower], [d('p')], [f('p/x')]])).toBe(false);
      expect(await flat([[lower], [d('p')], [f('p/x')]])).toEqual(['p dir@1:0', 'p/x file@2:0']);
    }
  });

  it('asks for it when a layer wrote below a lower symlink first, and then follows the symlink', async () => {
    const layers = [
      [d('t'), sym('p', 't')],
      [f('p/x'), d('p')],
    ];
    expect(await needsExactPlan(layers)).toBe(true);
    expect(await flat(layers)).toEqual(['p dir@1:1', 't dir@0:0', 't/x file@1:0']);
  });
});

describe('MergePlanner: inputs that are normal', () => {
  it('accepts empty and duplicate layers', async () => {
    const l = [d('x'), f('x/y')];
    expect(await flat([l, [], l, []])).toEqual(['x dir@2:0', 'x/y file@2:1']);
  });

  it('keeps dangling and absolute symlinks', async () => {
    expect(await flat([[sym('dangling', 'nowhere'), sym('abs', '/etc/passwd')]])).toEqual([
      'abs symlink@0:1->/etc/passwd',
      'dangling symlink@0:0->nowhere',
    ]);
  });
});

describe('MergePlanner: equals an engine on random layers', () => {
  it('matches bottom-up application on 20000 random images', async () => {
    for (let seed = 1; seed <= 20000; seed++) {
      const layers = randomLayers(seed);
      let ok = false;
      try {
        await flat(layers);
        ok = true;
      } finally {
        if (!ok) console.error(`seed ${seed}`, JSON.stringify(layers));
      }
    }
  });
});

describe('keep-base: the squashed layer keeps exactly the whiteouts the base still needs', () => {
  const view = async (layers: Spec[][], keep: number) =>
    engineView(layers, [...layers.slice(0, keep), await planKeepBase(layers, keep)]);
  const markers = async (layers: Spec[][], keep: number) =>
    (await planKeepBase(layers, keep)).filter((e) => e.origin.layer < 0 && e.type === 'file').map((e) => e.path);

  it('re-emits a whiteout whose target is in the base, so deleted secrets stay deleted', async () => {
    const layers = [[d('etc'), f('etc/secret')], [wh('etc/secret')], [f('x')]];
    expect(await markers(layers, 1)).toEqual(['etc/.wh.secret']);
    expect(await view(layers, 1)).toEqual(engineView(layers));
  });

  it('drops whiteouts of paths the base never had, and of files the squash deleted itself', async () => {
    expect(await markers([[f('a')], [f('b')], [wh('b'), wh('nothing')]], 1)).toEqual([]);
  });

  it('deletes a base directory the squash deleted and re-created, before re-creating it', async () => {
    const layers = [[d('cache'), f('cache/old')], [wh('cache')], [d('cache'), f('cache/new')]];
    expect(await markers(layers, 1)).toEqual(['.wh.cache']);
    expect((await planKeepBase(layers, 1))[0]!.path).toBe('.wh.cache');
    expect(await view(layers, 1)).toEqual(engineView(layers));
  });

  it('opens the squashed layer with its markers, so entries after them land on the result', async () => {
    // The base's symlink is deleted, then a directory made at its name: the whiteout must act
    // before d/x is written, or d/x would land in the symlink's target.
    const layers = [[d('t'), sym('d', 't')], [wh('d')], [f('d/x'), d('d')]];
    const squashed = await planKeepBase(layers, 1);
    expect(squashed.map((e) => e.path)).toEqual(['.wh.d', 'd/x', 'd']);
    expect(await view(layers, 1)).toEqual(engineView(layers));
  });

  it('plans exactly what the squashed layers wrote through a symlink of the base', async () => {
    const layers = [[d('real'), sym('link', 'real')], [f('link/x')]];
    expect(await needsExactPlan(layers, 1)).toBe(true);
    expect((await planKeepBase(layers, 1)).map((e) => e.path)).toEqual(['real/x']);
    expect(await view(layers, 1)).toEqual(engineView(layers));
  });

  it('matches the engine on random images for every split point', async () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const layers = randomLayers(seed);
      let want: string[] | undefined;
      let refused: string | undefined;
      try {
        want = engineView(layers);
      } catch (err) {
        refused = (err as LayerflatError).code;
      }
      for (let keep = 1; keep < layers.length; keep++) {
        let ok = false;
        try {
          // What the engines refuse, the squash refuses too (or its base already did).
          if (refused) await expect(view(layers, keep)).rejects.toMatchObject({ code: refused });
          else expect(await view(layers, keep)).toEqual(want);
          ok = true;
        } finally {
          if (!ok) console.error(`seed ${seed} keep ${keep}`, JSON.stringify(layers));
        }
      }
    }
  });
});
