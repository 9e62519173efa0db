/**
 * fast-check arbitraries that damage JSON documents the way hostile or buggy writers do: a
 * value somewhere in the tree replaced (by any JSON value, or one chosen to sit at an edge: a
 * digest of the wrong form, a size past 2^53, a schema version 1, an index media type where a
 * manifest's goes), a key deleted, an array entry repeated or dropped.
 */
import fc from 'fast-check';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const HEX = 'a'.repeat(64);

/** Values that sit at the edges of what the parsers accept. */
const edgeValue: fc.Arbitrary<Json> = fc.constantFrom<Json>(
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 53,
  1e300,
  '',
  [],
  {},
  [null],
  [1],
  [{}],
  ['x'],
  { '': '' },
  JSON.parse('{"__proto__": {"os": "linux"}}') as Json,
  1,
  2,
  `sha256:${HEX}`,
  `sha256:${'A'.repeat(64)}`,
  `sha512:${'b'.repeat(128)}`,
  `sha256:${HEX.slice(1)}`,
  `md5:${'c'.repeat(32)}`,
  'sha256:',
  `sha256:${HEX}\n`,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.oci.empty.v1+json',
  'layers',
  'linux',
  'amd64',
  'unknown',
  '../../../etc/passwd',
  '/etc/passwd',
  'blobs/sha256/../../x',
  'x'.repeat(300),
  { os: 'linux', architecture: 'amd64' },
  { os: 'unknown', architecture: 'unknown' },
  { type: 'layers', diff_ids: [] },
  { created_by: 1 },
  { empty_layer: 'yes' },
);

/** Any JSON value, mostly small. */
export const anyJson: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: edgeValue },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
);

export type JsonEdit =
  | { op: 'set'; path: number[]; value: Json }
  | { op: 'delete'; path: number[] }
  | { op: 'repeat'; path: number[] }
  | { op: 'rename'; path: number[]; key: string };

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      path: fc.array(fc.nat(), { maxLength: 5 }),
      value: anyJson,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      path: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('repeat' as const),
      path: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('rename' as const),
      path: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
      key: fc.constantFrom('mediaType', 'digest', 'size', 'manifests', 'layers', 'config', 'Config', 'Layers', 'x'),
    }),
  },
);

function children(v: Json): Array<string | number> {
  if (Array.isArray(v)) return v.map((_, i) => i);
  if (v !== null && typeof v === 'object') return Object.keys(v);
  return [];
}

/** A copy of `doc` with `edit` applied: the path picks child (n mod count) at each level, stopping at a leaf. */
export function applyEdit(doc: Json, edit: JsonEdit): Json {
  const root: Json = structuredClone(doc);
  const holder: { [k: string]: Json } = { root };
  let parent: { [k: string]: Json } | Json[] = holder;
  let key: string | number = 'root';
  const steps = edit.op === 'set' ? edit.path : edit.path.slice(0, -1);
  for (const n of steps) {
    const here = (parent as Record<string | number, Json>)[key]!;
    const keys = children(here);
    if (keys.length === 0) break;
    parent = here as { [k: string]: Json } | Json[];
    key = keys[n % keys.length]!;
  }
  if (edit.op === 'set') {
    (parent as Record<string | number, Json>)[key] = edit.value;
    return holder['root']!;
  }
  const target = (parent as Record<string | number, Json>)[key]!;
  const keys = children(target);
  if (keys.length === 0) return holder['root']!;
  const k = keys[edit.path.at(-1)! % keys.length]!;
  if (Array.isArray(target)) {
    if (edit.op === 'delete') target.splice(k as number, 1);
    else if (edit.op === 'repeat') target.splice(k as number, 0, structuredClone(target[k as number]!));
    else target[k as number] = { [edit.key]: target[k as number]! };
  } else if (target !== null && typeof target === 'object') {
    const value = target[k as string]!;
    delete target[k as string];
    if (edit.op === 'repeat') target[`${String(k)}`] = value;
    if (edit.op === 'rename') target[edit.key] = value;
  }
  return holder['root']!;
}

/** `doc` with 1-3 edits applied. */
export function mutatedJson(doc: Json): fc.Arbitrary<Json> {
  return fc.array(jsonEdit, { minLength: 1, maxLength: 3 }).map((edits) => edits.reduce(applyEdit, doc));
}

export type { Json };
