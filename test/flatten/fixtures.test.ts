/**
 * Flatten every engine-made fixture to every output format and check the flat image is the
 * same filesystem: against our own bottom-up view of the original, and against what the real
 * engine showed (`docker export` / `podman export` of a container, listed at fixture time).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flatten } from '../../src/flatten/flatten.js';
import { parsePlatform } from '../../src/image/platform.js';
import { openSource } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';
import { compareViews } from '../../src/verify/compare.js';
import { viewOf } from '../../src/verify/sides.js';
import { ENGINE_PATHS, ENGINE_TOUCHED_DIRS } from '../../src/verify/verify.js';
import { diffListings, listView, parseListing } from '../helpers/export-listing.js';

const FIX = path.resolve('test/fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-it-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Case {
  name: string;
  source: string;
  export: string;
  platform?: string;
  /**
   * RepoTags expected in a docker-archive output; default: the source's (an OCI ref name like "rules" is no image
   * name).
   */
  tags?: string[];
  /** Pass these as -t and expect them instead. */
  retag?: string[];
}

const CASES: Case[] = [
  { name: 'docker build (vfs), docker save', source: `docker-archive:${FIX}/docker-rules.tar`, export: 'docker-rules' },
  {
    name: 'podman build (overlay: real opaque markers), podman save',
    source: `${FIX}/podman-rules.tar`,
    export: 'podman-rules',
  },
  {
    name: 'multi-image docker save, picked by tag',
    source: `docker-archive:${FIX}/docker-multi.tar:layerflat-fixture/rules:docker`,
    export: 'docker-multi.rules',
  },
  {
    name: 'multi-image docker save, second image',
    source: `docker-archive:${FIX}/docker-multi.tar:layerflat-fixture/second:v1`,
    export: 'docker-multi.second',
  },
  { name: 'skopeo OCI layout, gzip layers', source: `oci:${FIX}/oci-gzip:rules`, export: 'oci-gzip', tags: [] },
  {
    name: 'skopeo OCI layout, zstd layers',
    source: `oci:${FIX}/oci-zstd:rules`,
    export: 'oci-zstd',
    tags: [],
    retag: ['example.org/rules/flat:1'],
  },
  { name: 'skopeo oci-archive', source: `oci-archive:${FIX}/rules.oci.tar`, export: 'rules.oci', tags: [] },
  {
    name: 'multi-platform index, amd64',
    source: `oci:${FIX}/oci-multiarch:multi`,
    platform: 'linux/amd64',
    export: 'oci-multiarch.amd64',
    tags: [],
  },
  {
    name: 'multi-platform index, arm64',
    source: `oci:${FIX}/oci-multiarch:multi`,
    platform: 'linux/arm64',
    export: 'oci-multiarch.arm64',
    tags: [],
  },
  {
    name: 'multi-platform index, arm/v7',
    source: `oci:${FIX}/oci-multiarch:multi`,
    platform: 'linux/arm/v7',
    export: 'oci-multiarch.arm-v7',
    tags: [],
  },
];

const FORMATS = [
  { transport: 'docker-archive', file: 'flat.tar' },
  { transport: 'oci', file: 'flat-oci' },
  { transport: 'oci-archive', file: 'flat.oci.tar' },
];

const ignore = ENGINE_PATHS.map((p) => `/${p}`);
const ignoreMtime = ENGINE_TOUCHED_DIRS.map((p) => `/${p}`.replace(/^\/$/, '/'));

describe.each(CASES)('$name', (c) => {
  it.each(FORMATS)(
    'flattens to $transport: one layer, same filesystem as the source and as the engine showed',
    async (fmt) => {
      const dir = fs.mkdtempSync(path.join(tmp, 'case-'));
      const dest = `${fmt.transport}:${path.join(dir, fmt.file)}`;
      const result = await flatten({ source: c.source, dest, platform: c.platform, tags: c.retag });
      expect(result.layersOut).toBe(1);

      const original = await viewOf(c.source, { platform: c.platform });
      const flat = await viewOf(dest);
      expect(compareViews(original, flat)).toEqual([]);

      const engine = parseListing(path.join(FIX, `${c.export}.export.txt`));
      expect(diffListings(engine, listView(flat), ignore, ignoreMtime)).toEqual([]);

      const src = await openSource(parseReference(c.source, 'source'), {
        platform: c.platform ? parsePlatform(c.platform) : undefined,
      });
      const out = await openSource(parseReference(dest, 'source'));
      try {
        expect(out.image.layers).toHaveLength(1);
        expect(withoutLayers(out.image.config)).toEqual(withoutLayers(src.image.config));
        const layered = (out.image.config.history ?? []).filter((h) => !h.empty_layer);
        expect(layered).toHaveLength(1);
        expect(layered[0]!.created_by).toMatch(/^layerflat .*: squashed/);
        expect((out.image.config.history ?? []).filter((h) => h.empty_layer)).toEqual(
          (src.image.config.history ?? []).filter((h) => h.empty_layer),
        );
        if (fmt.transport === 'docker-archive') expect(out.image.tags).toEqual(c.retag ?? c.tags ?? src.image.tags);
      } finally {
        await src.close();
        await out.close();
      }
    },
  );
});

function withoutLayers(config: Record<string, unknown>): Record<string, unknown> {
  const { rootfs: _r, history: _h, ...rest } = config;
  return rest;
}
