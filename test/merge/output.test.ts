import type { LayerflatError } from '../../src/errors.js';
import { describe, expect, it } from 'vitest';
import type { LayerTar } from '../../src/layers/layer-tar.js';
import { readTar } from '../../src/tar/reader.js';
import { FsTree } from '../../src/engine/fs-tree.js';
import type { Spec } from '../helpers/plan-driver.js';
import { randomLayers } from '../helpers/random-layers.js';
import { rechunk } from '../helpers/rechunk.js';
import { flatMem, measureMem, memLayer } from '../helpers/mem-layers.js';
import { buildTar, collectTar, type EntrySpec } from '../helpers/tar-builder.js';

const CAP_SETFCAP = Buffer.from('0100000200010080000000000000000000000000', 'hex'); // has 0x80 and NULs

describe('mergeLayers: bytes', () => {
  it('copies kept header blocks verbatim, binary capability xattr included', async () => {
    const spec: EntrySpec = {
      path: 'usr/bin/ping',
      content: 'ELF',
      mode: 0o4755,
      uid: 0,
      xattrs: { 'security.capability': CAP_SETFCAP },
    };
    const input = await collectTar(buildTar([spec]));
    const { entries } = await flatMem([memLayer([spec])]);
    expect(entries[0]!.entry.header.equals(input[0]!.entry.header)).toBe(true);
    expect(entries[0]!.entry.xattrs.get('security.capability')).toEqual(CAP_SETFCAP);
    expect(entries[0]!.data.toString()).toBe('ELF');
  });

  it('drops overlay storage xattrs and keeps the others', async () => {
    const { entries } = await flatMem([
      memLayer([
        {
          path: 'd/',
          xattrs: { 'trusted.overlay.opaque': 'y', 'user.overlay.origin': 'x', 'user.keep': Buffer.from([0x80, 0]) },
        },
      ]),
    ]);
    expect([...entries[0]!.entry.xattrs.keys()]).toEqual(['user.keep']);
    expect(entries[0]!.entry.xattrs.get('user.keep')).toEqual(Buffer.from([0x80, 0]));
  });

  it('gives a link the content of its own layer when a later layer overwrites the target', async () => {
    const lower = memLayer([
      { path: 'a', content: 'old content' },
      { path: 'b', type: 'hardlink', linkname: 'a' },
    ]);
    const upper = memLayer([{ path: 'a', content: 'new' }]);
    const { entries, stats } = await flatMem([lower, upper]);
    const byPath = new Map(entries.map((e) => [e.entry.path, e]));
    expect(byPath.get('a')!.data.toString()).toBe('new');
    expect(byPath.get('b')!.entry.type).toBe('file');
    expect(byPath.get('b')!.data.toString()).toBe('old content');
    expect(stats.hardlinksRehomed).toBe(1);
    expect(lower.passes).toBe(2); // read again only to fetch the content
    expect(upper.passes).toBe(1);
  });

  it('reads every layer once when no hardlink needs re-homing', async () => {
    const layers = [
      memLayer([
        { path: 'a', content: '1' },
        { path: 'b', type: 'hardlink', linkname: 'a' },
      ]),
      memLayer([{ path: 'c', content: '2' }]),
    ];
    await flatMem(layers);
    expect(layers.map((l) => l.passes)).toEqual([1, 1]);
  });

  it('writes only the whiteouts the kept base still needs, before any entry (engines apply tar order)', async () => {
    const base = [memLayer([{ path: 'etc/' }, { path: 'etc/secret', content: 's' }, { path: 'tmp/' }])];
    const squashed = [
      memLayer([{ path: 'etc/.wh.secret' }, { path: 'tmp/.wh.gone' }]),
      memLayer([{ path: 'x', content: 'x' }]),
    ];
    const { entries, stats } = await flatMem(squashed, base);
    expect(entries.map((e) => e.entry.path)).toEqual(['etc/.wh.secret', 'x']);
    expect(stats.whiteoutsWritten).toBe(1);
  });
});

describe('measureMerge', () => {
  it('predicts the exact flat layer size without reading any entry data', async () => {
    for (let seed = 1; seed <= 300; seed++) {
      const tars = tarSpecs(randomLayers(seed), (l, o) => 'x'.repeat((l * 97 + o * 31) % 1500));
      const refused = await codeOf(view(tars.map((t) => memLayer(t))));
      const headerOnly = tars.map((t): LayerTar => {
        const layer = memLayer(t);
        return {
          where: layer.where,
          entries: async function* () {
            for await (const item of layer.entries())
              yield {
                entry: item.entry,
                body: () => {
                  throw new Error('data read while measuring');
                },
              };
          },
        };
      });
      // What the engines refuse, measuring refuses too, without reading any data.
      if (refused) await expect(measureMem(headerOnly)).rejects.toMatchObject({ code: refused });
      else expect(await measureMem(headerOnly)).toBe((await flatMem(tars.map((t) => memLayer(t)))).bytes.length);
    }
  });
});

describe('mergeLayers: equals an engine, through real tar bytes', () => {
  it(
    'matches bottom-up application on 1500 random images, ' + 'hardlink headers setting owner, mode and mtime',
    async () => {
      for (let seed = 1; seed <= 1500; seed++) {
        const specs = randomLayers(seed);
        const tars = tarSpecs(specs, (l, o) => `content ${l}:${o}`);
        const refused = await codeOf(view(tars.map((t) => memLayer(t))));
        if (refused) {
          await expect(flatMem(tars.map((t) => memLayer(t)))).rejects.toMatchObject({ code: refused });
          continue;
        }
        const expected = await view(tars.map((t) => memLayer(t)));
        const { bytes } = await flatMem(tars.map((t, i) => memLayer(t, `layer ${i}`)));
        const actual = await view([{ where: 'flat', entries: () => readTar(rechunk(bytes, 4096)) }]);
        if (JSON.stringify(actual) !== JSON.stringify(expected)) console.error(`seed ${seed}`, JSON.stringify(specs));
        expect(actual).toEqual(expected);
      }
    },
  );
});

/** The error code `p` rejects with (undefined when it resolves): layers the engines refuse. */
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as LayerflatError).code;
  }
}

/**
 * Planner specs as tar entry specs; regular files get `content(layer, ordinal)`. Every file and
 * link gets its own owner, mode and mtime from where it stands, so a link's header never agrees
 * with its target's — the engines apply the link's to the shared file (docs/engine-rules.md).
 */
function tarSpecs(layers: Spec[][], content: (layer: number, ordinal: number) => string): EntrySpec[][] {
  return layers.map((layer, l) =>
    layer.map((e, o): EntrySpec => ({
      path: e.type === 'dir' ? `${e.path}/` : e.path,
      type: e.type,
      linkname: e.type === 'hardlink' || e.type === 'symlink' ? e.linkname : undefined,
      content: e.type === 'file' && !e.path.includes('.wh.') ? content(l, o) : undefined,
      ...(e.type === 'file' || e.type === 'hardlink'
        ? { uid: 1000 + l * 100 + o, mode: 0o600 + ((l + o) % 8) * 8, mtime: 1_700_000_000 + l * 1000 + o }
        : {}),
    })),
  );
}

/** What a path shows: its type and content, and for files the owner, mode and mtime. */
interface Shown {
  what: string;
  meta: string;
}

/**
 * Apply layers bottom-up as an engine would — a hardlink's header setting the shared file's
 * owner, mode and mtime — and describe each path by type, content and those.
 */
async function view(layers: LayerTar[]): Promise<string[]> {
  const tree = new FsTree<Shown>({ onLink: (file, link) => void (file.meta = link.meta) });
  for (let i = 0; i < layers.length; i++) {
    tree.startLayer(i);
    for await (const item of layers[i]!.entries()) {
      const chunks: Buffer[] = [];
      for await (const c of item.body()) chunks.push(Buffer.from(c));
      const e = item.entry;
      const type = e.type === 'hardlink' ? 'file' : e.type;
      const what = `${type}:${Buffer.concat(chunks).toString()}${e.type === 'symlink' ? `->${e.linkname}` : ''}`;
      const meta = e.type === 'file' || e.type === 'hardlink' ? ` ${e.uid} ${e.mode.toString(8)} ${e.mtime}` : '';
      tree.apply({ path: e.path, type: e.type, linkname: e.linkname, value: { what, meta } });
    }
    tree.endLayer();
  }
  const lines: [string, string | undefined][] = [...tree.walk()].map(([p, n]) => [
    p,
    n.value && `${n.value.what}${n.value.meta}`,
  ]);
  const valued = lines.filter(([, v]) => v !== undefined).map(([p]) => p);
  // Implicit parents whose entries were all deleted cannot be carried by a flat layer (see plan-driver).
  return lines
    .filter(([p, v]) => v !== undefined || valued.some((x) => x.startsWith(`${p}/`)))
    .map(([p, v]) => `${p} ${v ?? 'dir'}`);
}
