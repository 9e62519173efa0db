/**
 * Docker-style image names ("busybox", "busybox:1.36", "quay.io/x/y:v1"): normalising them the
 * way Docker does so "x", "x:latest" and "docker.io/library/x:latest" name one image, and
 * telling a full name from a bare OCI ref name.
 */

/** A name split into domain, repository path and tag. */
export interface ImageName {
  domain: string;
  path: string;
  tag: string;
}

const DEFAULT_DOMAIN = 'docker.io';
/** Docker's reference grammar: domain components joined by ".", an optional ":port". */
const COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^${COMPONENT}(?:\\.${COMPONENT})*(?::[0-9]+)?$`);

/**
 * Parse "[domain/]path[:tag][@digest]" with Docker's defaults: domain docker.io (with
 * "library/" for one-part paths) and tag latest. The digest part is ignored. Returns undefined
 * for text that cannot be an image name (empty, spaces, upper case in the path).
 */
export function parseImageName(text: string): ImageName | undefined {
  const noDigest = text.split('@', 1)[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const hasTag = colon > slash;
  const tag = hasTag ? noDigest.slice(colon + 1) : 'latest';
  let rest = hasTag ? noDigest.slice(0, colon) : noDigest;
  let domain = DEFAULT_DOMAIN;
  const first = rest.split('/', 1)[0]!;
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first === 'index.docker.io' ? DEFAULT_DOMAIN : first;
    rest = rest.slice(first.length + 1);
  }
  if (!DOMAIN.test(domain)) return undefined;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = `library/${rest}`;
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(rest))
    return undefined;
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
  return { domain, path: rest, tag };
}

/** "domain/path:tag", the fully qualified form (or the text itself when it is no name). */
export function normalizeImageName(text: string): string {
  const n = parseImageName(text);
  return n ? `${n.domain}/${n.path}:${n.tag}` : text;
}

/** The short form Docker shows: "busybox:latest" for docker.io/library/busybox:latest. */
export function familiarImageName(text: string): string {
  const n = parseImageName(text);
  if (!n) return text;
  if (n.domain !== DEFAULT_DOMAIN) return `${n.domain}/${n.path}:${n.tag}`;
  return `${n.path.startsWith('library/') ? n.path.slice('library/'.length) : n.path}:${n.tag}`;
}

/** Whether text explicitly carries a tag ("x:1"), as opposed to a bare repository or OCI tag. */
export function hasExplicitTag(text: string): boolean {
  return text.lastIndexOf(':') > text.lastIndexOf('/');
}

/** Whether two names denote the same image once Docker's defaults are applied. */
export function sameImageName(a: string, b: string): boolean {
  return normalizeImageName(a) === normalizeImageName(b);
}
