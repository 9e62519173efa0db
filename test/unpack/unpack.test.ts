/**
 * unpack(): DIR's rules (absent, empty with --force, never anything else), the marker beside it,
 * what a failure leaves (nothing), the exact plan, sparse files, names of any bytes, xattrs,
 * and random layer stacks held against the engines' model.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LayerflatError } from '../../src/errors.js';
import { unpack } from '../../src/unpack/unpack.js';
import { viewOf } from '../../src/verify/sides.js';
import { fuzz, fuzzRuns, fuzzTimeout } from '../helpers/fuzz.js';
import { randomLayers } from '../helpers/random-layers.js';
import { diskPath, viewOfDir, xattrsUnder } from '../helpers/rootfs-view.js';
import { buildTar, utf8, type EntrySpec } from '../helpers/tar-builder.js';
import { differences, expectUnpacked, scratch, unpackScratch, writeArchive } from '../helpers/unpack-case.js';
import { haveTool, tempDir } from '../transports/helpers.js';

const FILE = new URL(import.meta.url).pathname;
const root = process.geteuid?.() === 0;
const small = (): EntrySpec[][] => [
  [{ path: 'etc/' }, { path: 'etc/os-release', content: 'ID=test\n' }],
  [{ path: 'srv/' }, { path: 'srv/app', content: 'app\n', mode: 0o755 }],
];
const markerOf = (dir: string) => path.join(path.dirname(dir), `.${path.basename(dir)}.layerflat-incomplete`);

describe('DIR', () => {
  it('absent: made (0755), and holds the image', async () => {
    const s = scratch(small());
    await expectUnpacked(s);
    expect(fs.statSync(s.dir).mode & 0o7777).toBe(0o755);
  });

  it('an existing empty directory: only with --force, and it is kept on failure', async () => {
    const s = scratch(small());
    fs.mkdirSync(s.dir, 0o711);
    await expect(unpack({ source: s.image, dir: s.dir })).rejects.toMatchObject({
      code: 'DEST_EXISTS',
      message: expect.stringMatching(/exists \(empty\); pass --force/),
    });
    await expectUnpacked(s, { force: true });
    expect(fs.statSync(s.dir).mode & 0o7777).toBe(0o711); // the image says nothing of "/"

    const bad = scratch([[{ path: 'a', content: 'a' }], [{ path: 'a/b', content: 'under a file' }]]);
    fs.mkdirSync(bad.dir);
    await expect(unpack({ source: bad.image, dir: bad.dir, force: true })).rejects.toMatchObject({ code: 'BAD_TAR' });
    expect(fs.readdirSync(bad.dir)).toEqual([]);
    expect(fs.existsSync(markerOf(bad.dir))).toBe(false);
  });

  it('not empty, or not a directory: DEST_EXISTS, --force or not, and nothing is touched', async () => {
    const s = scratch(small());
    fs.mkdirSync(s.dir);
    fs.writeFileSync(path.join(s.dir, 'mine'), 'keep');
    for (const force of [false, true]) {
      await expect(unpack({ source: s.image, dir: s.dir, force })).rejects.toMatchObject({
        code: 'DEST_EXISTS',
        message: expect.stringMatching(/is not empty \(1 entries\)/),
      });
    }
    expect(fs.readdirSync(s.dir)).toEqual(['mine']);
    const file = path.join(s.base, 'file');
    fs.writeFileSync(file, 'x');
    await expect(unpack({ source: s.image, dir: file, force: true })).rejects.toMatchObject({ code: 'DEST_EXISTS' });
    await expect(unpack({ source: s.image, dir: path.join(s.base, 'no/such') })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(unpack({ source: s.image, dir: '/' })).rejects.toMatchObject({ code: 'DEST_EXISTS' });
    expect(fs.readdirSync(s.base).sort()).toEqual(['file', 'img.tar', 'outside', 'root']);
  });

  it.skipIf(!root)('takes the owner, mode, mtime and xattrs of "./" when the image has an entry for it', async () => {
    const s = scratch([
      [
        { path: './', mode: 0o750, uid: 5, gid: 6, mtime: 1_500_000_000, xattrs: { 'user.root': 'r' } },
        { path: 'f', content: '' },
      ],
    ]);
    await expectUnpacked(s);
    expect(fs.statSync(s.dir)).toMatchObject({ uid: 5, gid: 6, mtimeMs: 1_500_000_000_000 });
    expect(fs.statSync(s.dir).mode & 0o7777).toBe(0o750);
    expect(xattrsUnder(s.dir).get('')).toEqual({ 'user.root': '72' });
  });

  it('a symlink to an empty directory is followed (the user named it), with --force', async () => {
    const s = scratch(small());
    fs.mkdirSync(path.join(s.base, 'real'));
    fs.symlinkSync('real', s.dir);
    const r = await unpack({ source: s.image, dir: s.dir, force: true });
    expect(fs.readFileSync(path.join(s.base, 'real/srv/app'), 'utf8')).toBe('app\n');
    expect(r.dir).toBe(s.dir);
  });
});

describe('the marker of an unpack under way', () => {
  it('stands beside DIR (never in it) while the layers are written, and is gone at the end', async () => {
    const s = scratch(small());
    const seen: boolean[] = [];
    await unpack({
      source: s.image,
      dir: s.dir,
      onProgress: () =>
        seen.push(fs.existsSync(markerOf(s.dir)) && !fs.readdirSync(s.dir).some((n) => n.includes('layerflat'))),
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every(Boolean)).toBe(true);
    expect(fs.existsSync(markerOf(s.dir))).toBe(false);
    expect(fs.readFileSync(path.join(s.dir, 'srv/app'), 'utf8')).toBe('app\n');
  });

  it('left by an interrupted unpack: DEST_INCOMPLETE, saying to remove both, DIR untouched', async () => {
    const s = scratch(small());
    fs.mkdirSync(s.dir);
    fs.writeFileSync(path.join(s.dir, 'half'), '');
    fs.writeFileSync(markerOf(s.dir), 'layerflat unpack of … pid 1\n');
    for (const dir of [s.dir, `${s.dir}/`]) {
      await expect(unpack({ source: s.image, dir, force: true })).rejects.toMatchObject({
        code: 'DEST_INCOMPLETE',
        message: expect.stringContaining(`remove both (rm -rf ${s.dir} ${markerOf(s.dir)})`),
      });
    }
    fs.rmSync(s.dir, { recursive: true });
    await expect(unpack({ source: s.image, dir: s.dir })).rejects.toMatchObject({ code: 'DEST_INCOMPLETE' });
    expect(fs.existsSync(s.dir)).toBe(false);
    fs.rmSync(markerOf(s.dir));
    await expectUnpacked(s);
  });
});

describe('a failed unpack leaves nothing', () => {
  it('a layer the engines refuse, read after others were written: DIR and marker removed', async () => {
    // Layers are read top-down: layer 2 is written before layer 1's bad entry is met.
    const s = scratch([
      [
        { path: 'x', content: 'file' },
        { path: 'x/y', content: 'below a file' },
      ],
      [{ path: 'big', content: Buffer.alloc(1 << 20, 1) }],
    ]);
    const r = await unpackScratch(s);
    expect(r.error).toMatchObject({ code: 'BAD_TAR' });
  });

  it('a layer that is not what its diff_id says: DIGEST_MISMATCH, nothing left', async () => {
    const s = scratch(small());
    const good = buildTar(small()[1]!);
    const evil = buildTar([{ path: 'srv/' }, { path: 'srv/app', content: 'evi\n', mode: 0o755 }]);
    const bytes = fs.readFileSync(s.image);
    const at = bytes.indexOf(good);
    expect(at).toBeGreaterThan(0);
    evil.copy(bytes, at);
    fs.writeFileSync(s.image, bytes);
    const r = await unpackScratch(s);
    expect(r.error).toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('a source that is not there: NOT_FOUND before anything, nothing left', async () => {
    const s = scratch(small());
    fs.rmSync(s.image);
    fs.writeFileSync(s.image, 'not a tar at all, nor an image');
    const r = await unpackScratch(s);
    expect(r.error).toBeInstanceOf(LayerflatError);
  });
});

describe('what the one-pass plan cannot carry', () => {
  it('is planned exactly, DIR emptied and written again (a hidden link header’s metadata)', async () => {
    const s = scratch([
      [
        { path: 'regular', content: 'data', uid: 0, mode: 0o644 },
        { path: 'hard link', type: 'hardlink', linkname: 'regular', uid: 1337, gid: 2020, mode: 0o750 },
      ],
      [{ path: '.wh.hard link' }, { path: 'later', content: 'written twice' }],
    ]);
    const r = await expectUnpacked(s);
    expect(r.notes.join(' ')).toMatch(/planned exactly/);
    if (root) expect(viewOfDir(s.dir).lookup('regular')?.value).toMatchObject({ uid: 1337, gid: 2020, mode: 0o750 });
  });

  it('a path under a symlink of its own layer (link -> etc, link/x)', async () => {
    const s = scratch([
      [{ path: 'etc/' }, { path: 'etc/passwd', content: 'p' }],
      [
        { path: 'link', type: 'symlink', linkname: 'etc' },
        { path: 'link/x', content: 'x\n' },
      ],
    ]);
    await expectUnpacked(s);
    expect(fs.readFileSync(path.join(s.dir, 'etc/x'), 'utf8')).toBe('x\n');
  });
});

describe('names and attributes of any bytes', () => {
  it.skipIf(!haveTool('setfattr'))('non-UTF-8, newlines, spaces, long names; xattrs on them all', async () => {
    const names = [
      'caf\xe9',
      'new\nline',
      ' lead',
      'trail ',
      'back\\slash',
      utf8('日本語'),
      'd'.repeat(120) + '/f',
      'x=y#z',
    ];
    const s = scratch([
      names.map((p, i) => ({ path: p, content: `${i}`, xattrs: { 'user.lf': Buffer.from([i, 0, 255]) } })),
    ]);
    const r = await expectUnpacked(s);
    expect(r.xattrs).toBe(names.length);
    expect(xattrsUnder(s.dir).get('new\nline')).toEqual({ 'user.lf': '0100ff' });
  });

  it('--no-xattrs: none set, counted, one warning', async () => {
    const s = scratch([[{ path: 'f', content: 'x', xattrs: { 'user.a': 'a', 'user.b': 'b' } }]]);
    const r = await unpack({ source: s.image, dir: s.dir, xattrs: false });
    expect(r).toMatchObject({ xattrs: 0, xattrsSkipped: 2 });
    expect(r.warnings).toEqual(['2 extended attribute(s) not set: --no-xattrs']);
    expect(xattrsUnder(s.dir).get('f') ?? {}).toEqual({});
  });

  it('no setfattr on PATH: MISSING_TOOL naming the package and --no-xattrs (without xattrs, no need)', async () => {
    const saved = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const plain = scratch(small());
      await expectUnpacked(plain);
      const s = scratch([[{ path: 'f', content: 'x', xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2]) } }]]);
      const r = await unpackScratch(s);
      expect(r.error).toMatchObject({
        code: 'MISSING_TOOL',
        message: expect.stringMatching(/setfattr.*attr.*--no-xattrs/),
      });
    } finally {
      process.env['PATH'] = saved;
    }
  });

  it('drops overlay storage xattrs (trusted.overlay.*, user.overlay.*) as flatten does', async () => {
    const s = scratch([
      [
        { path: 'o/', xattrs: { 'trusted.overlay.opaque': 'y', 'user.overlay.opaque': 'y' } },
        { path: 'o/f', content: '' },
      ],
    ]);
    const r = await expectUnpacked(s);
    expect(r.xattrs + r.xattrsSkipped).toBe(0);
  });
});

describe.skipIf(!haveTool('tar'))('sparse files (GNU tar --sparse)', () => {
  it.each([
    ['old GNU', ['--format=gnu']],
    ['pax 0.1', ['--format=posix', '--sparse-version=0.1']],
    ['pax 1.0', ['--format=posix', '--sparse-version=1.0']],
  ])('%s: the real file, holes and all', async (_what, flags) => {
    const work = tempDir();
    const file = path.join(work, 'sparse');
    const fd = fs.openSync(file, 'w');
    const chunks = [0, 3 << 20, 9 << 20].map((at) => [at, crypto.randomBytes(10_000)] as const);
    for (const [at, data] of chunks) fs.writeSync(fd, data, 0, data.length, at);
    fs.ftruncateSync(fd, 12 << 20);
    fs.closeSync(fd);
    const layer = path.join(work, 'layer.tar');
    execFileSync('tar', ['--sparse', ...flags, '-cf', layer, '-C', work, 'sparse']);
    const s = scratch([fs.readFileSync(layer)]);
    const r = await unpackScratch(s);
    if (r.error) throw r.error;
    const got = fs.readFileSync(path.join(s.dir, 'sparse'));
    expect(got.length).toBe(12 << 20);
    expect(got.equals(fs.readFileSync(file))).toBe(true);
    expect(fs.statSync(path.join(s.dir, 'sparse')).blocks * 512).toBeLessThan(1 << 20);
  });
});

describe('random layer stacks', () => {
  const runs = fuzzRuns(60, 10);
  it(
    `unpack as the engines' model says, or refuse as it does (${runs} runs)`,
    { timeout: fuzzTimeout(runs, 400) },
    async () => {
      const prop = fc.asyncProperty(fc.integer({ min: 1, max: 1 << 30 }), async (seed) => {
        const layers = randomLayers(seed).map((layer, l) =>
          layer.map((e, o): EntrySpec => {
            const meta = {
              mode: [0o644, 0o4755, 0o600, 0o1777][(l + o) % 4]!,
              uid: (l * 7 + o) % 3,
              mtime: 1_600_000_000 + l * 100 + o,
            };
            const real = !e.path.includes('.wh.');
            const content = e.type === 'file' && real ? { content: `content ${l}:${o}` } : {};
            // Attributes on some files, directories and links: a link's header adds its own to the file.
            const some = real && (l + o) % 3 === 0 && e.type !== 'symlink';
            const xattrs = some ? { xattrs: { [`user.k${o % 2}`]: `${l}:${o}` } } : {};
            if (e.type === 'dir') return { path: `${e.path}/`, ...meta, mode: 0o755, ...xattrs };
            return { path: e.path, type: e.type, linkname: e.linkname || undefined, ...meta, ...content, ...xattrs };
          }),
        );
        const s = scratch(layers);
        let refused: unknown;
        await viewOf(s.image).catch((err: unknown) => (refused = err));
        const r = await unpackScratch(s);
        if (refused) {
          expect(r.error).toMatchObject({ code: (refused as LayerflatError).code });
          return;
        }
        if (r.error) throw r.error;
        expect(await differences(s)).toEqual([]);
        fs.rmSync(s.base, { recursive: true, force: true });
      });
      await fuzz(FILE, 'unpack: random layer stacks vs the engines’ model', prop, runs);
    },
  );
});

describe('writeArchive', () => {
  it('writes a docker-archive unpack reads', async () => {
    const dir = tempDir();
    const img = writeArchive(path.join(dir, 'i.tar'), small());
    const r = await unpack({ source: `docker-archive:${img}`, dir: path.join(dir, 'r') });
    expect(r).toMatchObject({ layers: 2, files: 2, dirs: 2, layerPasses: 2 });
    expect(fs.readFileSync(diskPath(path.join(dir, 'r'), 'etc/os-release'), 'utf8')).toBe('ID=test\n');
  });
});
