/**
 * The manifest.json of a `docker save` / `podman save` archive: parsing it and choosing one of
 * its images by REF — "repo:tag" (normalised, so x = x:latest = docker.io/library/x:latest, and a
 * short name matches a unique localhost/x as podman would), an image ID (config digest) or a
 * unique prefix of one, or "@N" as containers/image allows.
 */
import { LayerflatError } from '../../errors.js';
import { Digest } from '../../image/digest.js';
import { hasExplicitTag, parseImageName, sameImageName } from '../../image/name.js';

/** One image of manifest.json. */
export interface DockerArchiveEntry {
  config: string;
  repoTags: string[];
  layers: string[];
}

function bad(where: string, what: string): LayerflatError {
  return new LayerflatError('BAD_MANIFEST', `${where}: ${what}`);
}

/** Validate manifest.json: a non-empty array of {Config, RepoTags?, Layers}. */
export function parseDockerManifest(json: unknown, where: string): DockerArchiveEntry[] {
  if (!Array.isArray(json)) throw bad(where, 'not a JSON array');
  if (json.length === 0) throw bad(where, 'lists no images');
  return json.map((e: unknown, i) => {
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const tags = o['RepoTags'] ?? [];
    if (typeof o['Config'] !== 'string' || o['Config'] === '') throw bad(where, `image ${i} has no "Config"`);
    if (!Array.isArray(o['Layers']) || o['Layers'].some((l) => typeof l !== 'string'))
      throw bad(where, `image ${i} has no "Layers" list`);
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))
      throw bad(where, `image ${i} has an invalid "RepoTags"`);
    return { config: o['Config'], repoTags: tags as string[], layers: o['Layers'] as string[] };
  });
}

/** The ID a member name carries: "<hex>.json" (a config) or "blobs/sha256/<hex>" (Docker >= 25). */
export function digestOfName(name: string): Digest | undefined {
  return Digest.inName(name, /^(?:\.\/)?(?:blobs\/sha256\/([a-f0-9]{64})|([a-f0-9]{64})\.json)$/);
}

function describe(e: DockerArchiveEntry, i: number): string {
  const id = digestOfName(e.config);
  return `@${i} ${e.repoTags.length ? e.repoTags.join(', ') : '(untagged)'}${id ? ` ${id.hex.slice(0, 12)}` : ''}`;
}

function listing(entries: DockerArchiveEntry[]): string {
  return entries.map(describe).join('; ');
}

/** Entries whose tags match by short name (x → localhost/x, quay.io/a/x ...), for domain-less REFs. */
function shortNameMatches(entries: DockerArchiveEntry[], ref: string): number[] {
  const want = parseImageName(ref);
  if (!want || (ref.includes('/') && /[.:]|^localhost$/.test(ref.split('/', 1)[0]!))) return [];
  const path = want.path.replace(/^library\//, '');
  const fits = (tag: string) => {
    const t = parseImageName(tag);
    return t !== undefined && t.tag === want.tag && (t.path === path || t.path.endsWith(`/${path}`));
  };
  return entries.flatMap((e, i) => (e.repoTags.some(fits) ? [i] : []));
}

function one(found: number[], entries: DockerArchiveEntry[], ref: string, where: string): number | undefined {
  if (found.length === 1) return found[0];
  if (found.length > 1) {
    const list = listing(found.map((i) => entries[i]!));
    throw new LayerflatError(
      'AMBIGUOUS_REF',
      `${where}: "${ref}" matches several images: ${list}; use a full name, an image ID or @N`,
    );
  }
  return undefined;
}

/**
 * Choose the image `ref` names (see the module comment); `idOf(i)` yields image i's config
 * digest hex. AMBIGUOUS_REF when there is no REF and several images, or several match;
 * REF_NOT_FOUND listing the images when none does.
 */
export async function selectDockerEntry(
  entries: DockerArchiveEntry[],
  ref: string | undefined,
  where: string,
  idOf: (i: number) => Promise<Digest>,
): Promise<number> {
  if (ref === undefined) {
    if (entries.length === 1) return 0;
    throw new LayerflatError(
      'AMBIGUOUS_REF',
      `${where} holds ${entries.length} images: ${listing(entries)}; choose one with :REF (repo:tag, image ID or @N)`,
    );
  }
  const notFound = () =>
    new LayerflatError('REF_NOT_FOUND', `${where}: no image "${ref}"; it has: ${listing(entries)}`);
  const at = /^@(\d+)$/.exec(ref);
  if (at) {
    if (Number(at[1]) >= entries.length) throw notFound();
    return Number(at[1]);
  }
  const id = /^(sha256:)?([a-f0-9]{4,64})$/.exec(ref);
  if (id) {
    const ids = await Promise.all(entries.map((_, i) => idOf(i)));
    const byId = one(
      entries.flatMap((_, i) => (ids[i]!.hex.startsWith(id[2]!) ? [i] : [])),
      entries,
      ref,
      where,
    );
    if (byId !== undefined) return byId;
    if (id[1]) throw notFound();
  }
  const exact = entries.flatMap((e, i) => (e.repoTags.some((t) => sameImageName(t, ref)) ? [i] : []));
  const chosen = one(exact, entries, ref, where) ?? one(shortNameMatches(entries, ref), entries, ref, where);
  if (chosen === undefined) throw notFound();
  return chosen;
}

/** RepoTags for a written archive: names with a tag (":latest" added to a bare REF or repo/path). */
export function repoTagsFor(destRef: string | undefined, tags: readonly string[]): string[] {
  if (destRef !== undefined) {
    if (!parseImageName(destRef) || destRef.includes('@')) {
      throw new LayerflatError(
        'BAD_REFERENCE',
        `"${destRef}" is not a valid image name for a docker-archive (expected repo[:tag])`,
      );
    }
    return [hasExplicitTag(destRef) ? destRef : `${destRef}:latest`];
  }
  // A bare OCI ref name such as "latest" or "1.0" may be a tag without a repository: not a RepoTag.
  const named = tags.filter(
    (t) => (hasExplicitTag(t) || t.includes('/')) && !t.includes('@') && parseImageName(t) !== undefined,
  );
  return [...new Set(named.map((t) => (hasExplicitTag(t) ? t : `${t}:latest`)))];
}
