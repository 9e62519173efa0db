#!/usr/bin/env node
// scripts/e2e/compare-inspect.mjs ORIG.json FLAT.json — two `docker/podman image inspect` outputs.
//
// Fails unless: .Config is the same (deep, key order ignored), and so are .Os and .Architecture
// (and .Variant when present); the flat image has exactly one layer in .RootFS.Layers.
// Other top-level fields that differ are listed for the reader (ids, tags, sizes and layers are
// expected to differ and are not listed).
import { readFileSync } from 'node:fs';

const [fa, fb] = process.argv.slice(2);
const load = (f) => {
  const j = JSON.parse(readFileSync(f, 'utf8'));
  return Array.isArray(j) ? j[0] : j;
};
const a = load(fa);
const b = load(fb);

/** JSON with object keys sorted, so equal values compare equal whatever the engine's key order. */
const canon = (v) =>
  Array.isArray(v)
    ? `[${v.map(canon).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canon(v[k])}`)
          .join(',')}}`
      : JSON.stringify(v ?? null);

const failures = [];
for (const key of ['Config', 'Os', 'Architecture', 'Variant']) {
  if (canon(a[key]) !== canon(b[key])) {
    failures.push(`${key} differs:\n  original: ${canon(a[key])}\n  flat:     ${canon(b[key])}`);
  }
}
if (a.Config === undefined) failures.push('no .Config in the original inspect output');
const layersA = a.RootFS?.Layers?.length ?? 0;
const layersB = b.RootFS?.Layers?.length ?? 0;
if (layersB !== 1) failures.push(`the flat image has ${layersB} layers in .RootFS.Layers, not 1`);

const EXPECTED = new Set([
  'Id',
  'Digest',
  'RepoTags',
  'RepoDigests',
  'Parent',
  'Size',
  'VirtualSize',
  'RootFS',
  'Metadata',
  'GraphDriver',
  'NamesHistory',
  'History',
  'ManifestType',
  'Labels',
  'Annotations',
  'User',
]);
const others = Object.keys({ ...a, ...b }).filter(
  (k) => !EXPECTED.has(k) && !['Config', 'Os', 'Architecture', 'Variant'].includes(k) && canon(a[k]) !== canon(b[k]),
);
for (const k of others) console.log(`note: ${k} differs: ${canon(a[k]).slice(0, 200)} -> ${canon(b[k]).slice(0, 200)}`);

if (failures.length) {
  for (const f of failures) console.log(f);
  process.exit(1);
}
console.log(
  `Config, Os, Architecture equal (${Object.keys(a.Config ?? {}).length} Config keys); ` +
    `layers ${layersA} → ${layersB}`,
);
