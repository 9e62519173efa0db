/**
 * `layerflat inspect` through the built bin (built here if missing): JSON shape, the SVG file,
 * the plain table when stdout is not a terminal, and exit codes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sinkFor } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';
import { buildTar } from '../helpers/tar-builder.js';
import { dir, file, whiteout } from '../inspect/helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'dist', 'cli', 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-inspect-cli-'));
const archive = path.join(tmp, 'image.tar');
const RULES = path.join(ROOT, 'test', 'fixtures', 'docker-rules.tar');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A two-layer docker-archive: layer 1 deletes a 9000-byte file of layer 0. */
beforeAll(async () => {
  if (!fs.existsSync(BIN)) spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const layers = [
    buildTar([dir('srv'), file('srv/big', 9000), file('srv/small', 10)]),
    buildTar([whiteout('srv/big')]),
  ];
  const config = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created_by: '/bin/sh -c #(nop) COPY dir:1 in /srv' }, { created_by: '/bin/sh -c rm /srv/big' }],
  };
  const ref = parseReference(`docker-archive:${archive}:example.com/inspect:1`, 'dest');
  const image = {
    config,
    tags: ['example.com/inspect:1'],
    layers: layers.map((t) => ({ kind: 'new' as const, open: async () => Readable.from([t]) })),
  };
  await sinkFor(ref).write(ref, image, { compression: 'none', force: true });
});

function run(...args: string[]) {
  return spawnSync(process.execPath, [BIN, 'inspect', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '' },
  });
}

describe('layerflat inspect (built bin)', () => {
  it('--json prints every number in bytes', () => {
    const out = run(archive, '--json');
    expect(out.status).toBe(0);
    const r = JSON.parse(out.stdout);
    expect(r.totals).toEqual({
      layers: 2,
      compressedBytes: expect.any(Number),
      tarBytes: expect.any(Number),
      contentBytes: 9010,
      mergedBytes: 10,
      mergedFiles: 1,
      wastedBytes: 9000,
    });
    expect(r.layers[0]).toMatchObject({
      index: 0,
      added: 3,
      wastedBytes: 9000,
      mergedBytes: 9010,
      vfsBytes: 4096 * 6,
      createdBy: '/bin/sh -c #(nop) COPY dir:1 in /srv',
    });
    expect(r.layers[1]).toMatchObject({ index: 1, whiteouts: 1, removedPaths: 1, mergedBytes: 10, vfsBytes: 4096 * 3 });
    expect(r.layers[0].diffId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.vfs).toEqual({
      blockSize: 4096,
      imageBytes: 4096 * 9, // root, srv, big (3 blocks), small; then root, srv, small
      imagePlusContainerBytes: 4096 * 12,
      flatImageBytes: 4096 * 3,
      flatPlusContainerBytes: 4096 * 6,
      savingBytes: 4096 * 6,
      savingFactor: 2,
    });
    expect(r.shadowed).toEqual([{ path: '/srv/big', bytes: 9000, addedIn: 0, hiddenIn: 1, how: 'whited-out' }]);
  });

  it.skipIf(!fs.existsSync(RULES))(
    '--json on the docker-rules fixture: one entry per layer, totals that add up',
    () => {
      const out = run(RULES, '--json', '--top', '3');
      expect(out.status).toBe(0);
      const r = JSON.parse(out.stdout);
      expect(Object.keys(r)).toEqual(['source', 'origin', 'tags', 'layers', 'totals', 'vfs', 'shadowed', 'seconds']);
      expect(r.tags).toEqual(['layerflat-fixture/rules:docker']);
      expect(r.layers).toHaveLength(19);
      expect(r.totals.layers).toBe(19);
      for (const l of r.layers) {
        for (const k of [
          'compressedBytes',
          'tarBytes',
          'entries',
          'added',
          'changed',
          'whiteouts',
          'opaqueDirs',
          'removedPaths',
          'contentBytes',
          'wastedBytes',
          'mergedBytes',
          'mergedFiles',
          'vfsBytes',
        ]) {
          expect(Number.isInteger(l[k]), `${k} of layer ${l.index}`).toBe(true);
        }
        expect(l.diffId).toMatch(/^sha256:[0-9a-f]{64}$/);
      }
      expect(r.vfs.imageBytes).toBe(r.layers.reduce((s: number, l: { vfsBytes: number }) => s + l.vfsBytes, 0));
      expect(r.vfs.flatPlusContainerBytes).toBe(2 * r.layers[18].vfsBytes);
      expect(r.shadowed).toHaveLength(3);
    },
  );

  it('--svg writes a self-contained SVG chart', () => {
    const svg = path.join(tmp, 'cost.svg');
    const out = run(archive, '--svg', svg);
    expect(out.status).toBe(0);
    const text = fs.readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text.trimEnd().endsWith('</svg>')).toBe(true);
    expect(text).toContain('example.com/inspect:1');
    expect(text).not.toMatch(/<script|href=|@import/);
    if (hasXmllint()) execFileSync('xmllint', ['--noout', svg]);
  });

  it('prints a plain table when stdout is not a terminal', () => {
    const out = run(archive, '--top', '1');
    expect(out.status).toBe(0);
    expect(out.stdout).not.toContain('\x1b[');
    expect(out.stdout).toMatch(/^ *#\s+layer\s+created by/m);
    expect(out.stdout).toContain('RUN rm /srv/big');
    expect(out.stdout).toMatch(/as built\s+image\s+36\.0 KiB\s+\+ 1 container\s+48\.0 KiB/);
    expect(out.stdout).toContain('/srv/big');
  });

  it('fails with exit code 2 on a missing source or a bad --top', () => {
    const missing = run(path.join(tmp, 'nope.tar'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/error \[NOT_FOUND\]/);
    // A usage error exits 2 like bad input (1 would mean "images differ").
    const usage = run(archive, '--top', 'many');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('expected a whole number');
  });
});

function hasXmllint(): boolean {
  return spawnSync('xmllint', ['--version']).status === 0;
}
