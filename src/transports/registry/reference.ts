/**
 * `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]` as skopeo and podman spell it, with Docker Hub's rules:
 * no host (or docker.io, index.docker.io) means Docker Hub, whose one-part names live under
 * "library/" and whose API is at registry-1.docker.io; no tag and no digest means ":latest".
 * Pure: the text in, the parts out.
 */
import { LayerflatError } from '../../errors.js';

export interface RegistryImage {
  /** The registry as auth files and cert dirs name it: "docker.io", "127.0.0.1:5000". */
  registry: string;
  /** Where its API is: "registry-1.docker.io" for Docker Hub, else the registry itself. */
  host: string;
  /** "library/busybox", "lf/rules". */
  repository: string;
  /** A tag or a digest ("sha256:…"); a tag when both were given is dropped, as skopeo does. */
  ref: string;
}

const DOCKER_HUB = 'docker.io';
const COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${COMPONENT}(?:\\.${COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/;

function bad(text: string, why: string): LayerflatError {
  return new LayerflatError('BAD_REFERENCE', `invalid image reference "${text}": ${why}`);
}

/** The part after "docker:" ("//host/repo:tag"); `text` is the whole reference, for messages. */
export function parseRegistryImage(rest: string, text: string): RegistryImage {
  if (!rest.startsWith('//')) throw bad(text, 'expected docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST]');
  let name = rest.slice(2);
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(text, `"${digest}" is not a digest (sha256: and 64 hex digits)`);
  }
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  let tag: string | undefined;
  if (colon > slash) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG.test(tag)) throw bad(text, `"${tag}" is not a valid tag`);
  }
  const first = name.split('/', 1)[0]!;
  const hasHost = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasHost ? first : DOCKER_HUB;
  let repository = hasHost ? name.slice(first.length + 1) : name;
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (!DOMAIN.test(registry)) throw bad(text, `"${registry}" is not a registry host`);
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository)) {
    throw bad(text, `"${repository}" is not a repository name (lower case, digits and . _ - separators)`);
  }
  const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
  return { registry, host, repository, ref: digest ?? tag ?? 'latest' };
}

/** Whether a ref is a digest rather than a tag. */
export function isDigestRef(ref: string): boolean {
  return DIGEST.test(ref);
}

/** The reference as a user types it again: "docker://127.0.0.1:5000/lf/rules:flat". */
export function describeRegistryImage(image: Pick<RegistryImage, 'registry' | 'repository' | 'ref'>): string {
  return `docker://${image.registry}/${image.repository}${isDigestRef(image.ref) ? '@' : ':'}${image.ref}`;
}
