/**
 * The verify use case: are two images (or an image and a filesystem tar) the same filesystem?
 */
import { compareViews, type CompareOptions, type Difference, type DifferenceKind } from './compare.js';
import { viewOf, type SideOptions } from './sides.js';

/** What engines add to every container's filesystem, so an export differs from its image by these. */
export const ENGINE_PATHS = [
  'etc/hosts',
  'etc/resolv.conf',
  'etc/hostname',
  '.dockerenv',
  'run/.containerenv',
  'etc/mtab',
  'dev',
  'proc',
  'sys',
];
/** Directories whose mtime changes when an engine puts ENGINE_PATHS in them. */
export const ENGINE_TOUCHED_DIRS = ['', 'etc', 'run'];

/**
 * What an engine's export leaves out or makes up, beyond ENGINE_PATHS (docs/engine-rules.md):
 * docker's export keeps no xattr but security.capability, rootless podman's drops trusted.*; an
 * image without /etc gets one made to hold the engine's files.
 */
const ENGINE_EXPORT_RULES: CompareOptions = {
  ignoreMtimeOf: ENGINE_TOUCHED_DIRS,
  ignoreXattr: (name) => name.startsWith('user.') || name.startsWith('trusted.'),
  ignoreEmptyExtraDirs: true,
};

export interface VerifyOptions extends SideOptions {
  a: string;
  b: string;
  /** Paths (and their subtrees) to leave out. */
  ignore?: string[];
  /** Leave out ENGINE_PATHS and the mtimes of ENGINE_TOUCHED_DIRS (compare an export with an image). */
  ignoreEngineFiles?: boolean;
}

export interface VerifyResult {
  equal: boolean;
  differences: Difference[];
  counts: Partial<Record<DifferenceKind, number>>;
  paths: { a: number; b: number };
  seconds: number;
}

/** Compare the filesystems `a` and `b` name. */
export async function verify(o: VerifyOptions): Promise<VerifyResult> {
  const started = process.hrtime.bigint();
  const [a, b] = [await viewOf(o.a, o), await viewOf(o.b, o)];
  const compare: CompareOptions = {
    ignore: [...(o.ignore ?? []).map(normalise), ...(o.ignoreEngineFiles ? ENGINE_PATHS : [])],
    ...(o.ignoreEngineFiles ? ENGINE_EXPORT_RULES : {}),
  };
  const differences = compareViews(a, b, compare);
  return {
    equal: differences.length === 0,
    differences,
    counts: countByKind(differences),
    paths: { a: [...a.walk()].length, b: [...b.walk()].length },
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

function countByKind(differences: readonly Difference[]): Partial<Record<DifferenceKind, number>> {
  const counts: Partial<Record<DifferenceKind, number>> = {};
  for (const d of differences) counts[d.kind] = (counts[d.kind] ?? 0) + 1;
  return counts;
}

function normalise(path: string): string {
  return path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
}
