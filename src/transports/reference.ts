/**
 * Parsing "transport:rest" image references as skopeo and podman users type them. For the
 * file-based transports the rest is PATH[:REF], split at the FIRST ':' as containers/image does on
 * Linux (so a path cannot contain ':'; "./a:b" style paths without a transport are bare paths).
 */
import { LayerflatError } from '../errors.js';
import { parseDaemonImage } from './docker-daemon/name.js';
import { PODMAN_PREFIXES, parsePodmanImage } from './podman/reference.js';
import { describeRegistryImage, parseRegistryImage } from './registry/reference.js';
import type { Format, ImageReference } from './types.js';

/** Transports layerflat reads and writes. */
const SUPPORTED_TRANSPORTS = ['docker-archive', 'oci', 'oci-archive'] as const;

/** Transports known by name that are not implemented; the hint says what to run instead. */
const NOT_YET: Readonly<Record<string, { source: string; dest: string }>> = {
  dir: {
    source: 'convert it first: skopeo copy dir:PATH oci:layout:REF, then flatten oci:layout:REF',
    dest: 'write oci:layout:REF, then skopeo copy oci:layout:REF dir:PATH',
  },
};

const TRANSPORT_LIKE = /^[a-z][a-z0-9-]*$/;

function bad(text: string, why: string): LayerflatError {
  return new LayerflatError('BAD_REFERENCE', `invalid image reference "${text}": ${why}`);
}

/** A REF as containers/image allows it: a name[:tag], a digest, or "@N" (sources only). */
function checkRef(text: string, transport: string, ref: string, role: 'source' | 'dest'): void {
  if (ref === '') throw bad(text, 'empty REF after ":"');
  if (ref.startsWith('@')) {
    if (role === 'dest') throw bad(text, `"@N" selects an image of a source; a destination needs a name`);
    if (!/^@\d+$/.test(ref)) throw bad(text, `"${ref}" is not an image index; use @0, @1, …`);
    return;
  }
  if (role === 'dest' && transport === 'docker-archive' && /^sha256:/.test(ref)) {
    throw bad(text, 'a docker-archive destination REF must be a name[:tag], not a digest');
  }
  if (/\s/.test(ref)) throw bad(text, `REF "${ref}" contains white space`);
}

/**
 * Parse a reference for reading (`source`) or writing (`dest`). This is the one place "-" is
 * interpreted:
 * - `docker-archive:PATH[:REF]`, `oci:DIR[:REF]`, `oci-archive:PATH[:REF]` → that transport;
 * - "-" → transport 'stdio' (stdin for a source, stdout for a destination); a PATH of "-" for
 *   the archive transports is stdio in that format;
 * - `docker-daemon:NAME[:TAG]` (or an image ID, for a source) → the Docker daemon, NAME as path;
 * - text without a transport prefix → transport 'auto' with the whole text as the path;
 * - `containers-storage:NAME[:TAG]|ID` or `podman:…` → podman's storage (podman/reference.ts);
 * - `docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST]` → a registry (registry/reference.ts);
 * - dir: → UNSUPPORTED_TRANSPORT saying what to
 *   run instead; any other "word:" prefix → BAD_REFERENCE listing the transports.
 */
export function parseReference(text: string, role: 'source' | 'dest'): ImageReference {
  if (text === '') throw bad(text, 'empty');
  const colon = text.indexOf(':');
  const prefix = colon < 0 ? '' : text.slice(0, colon);
  if (text === '-') return { transport: 'stdio', path: '-' };
  if (colon < 0 || !TRANSPORT_LIKE.test(prefix)) return { transport: 'auto', path: text };
  const rest = text.slice(colon + 1);
  if (prefix === 'docker') {
    const registry = parseRegistryImage(rest, text);
    return { transport: 'docker', path: `${registry.registry}/${registry.repository}`, ref: registry.ref, registry };
  }
  if (prefix === 'docker-daemon') return { transport: 'docker-daemon', path: parseDaemonImage(rest, role, text) };
  if ((PODMAN_PREFIXES as readonly string[]).includes(prefix)) {
    return { transport: 'containers-storage', path: parsePodmanImage(text, rest, role) };
  }
  const hint = NOT_YET[prefix];
  if (hint) {
    const what = role === 'source' ? hint.source : hint.dest;
    throw new LayerflatError(
      'UNSUPPORTED_TRANSPORT',
      `transport "${prefix}:" is not supported yet as a ${role === 'source' ? 'source' : 'destination'}; ${what}`,
    );
  }
  if (!(SUPPORTED_TRANSPORTS as readonly string[]).includes(prefix)) {
    throw bad(
      text,
      `unknown transport "${prefix}"; use docker-archive:PATH[:REF], oci:DIR[:REF], oci-archive:PATH[:REF] ` +
        'docker-daemon:NAME[:TAG], containers-storage:NAME[:TAG] or docker://HOST/REPO[:TAG] ' +
        '(a file name containing ":" needs a leading "./")',
    );
  }
  const split = rest.indexOf(':');
  const path = split < 0 ? rest : rest.slice(0, split);
  if (path === '') throw bad(text, `no path after "${prefix}:"`);
  if (path === '-' && prefix === 'oci')
    throw bad(text, 'an oci: layout is a directory and cannot be stdin or stdout; use oci-archive:-');
  const format = prefix as Format;
  const place: ImageReference =
    path === '-'
      ? { transport: 'stdio', path, format: format as 'docker-archive' | 'oci-archive' }
      : { transport: format, path };
  if (split < 0) return place;
  const ref = rest.slice(split + 1);
  checkRef(text, prefix, ref, role);
  return { ...place, ref };
}

/** The reference as the user would type it again; "-" alone for stdin/stdout. */
export function describeReference(ref: ImageReference): string {
  if (ref.registry) return describeRegistryImage(ref.registry);
  const transport = ref.transport === 'stdio' ? ref.format : ref.transport === 'auto' ? undefined : ref.transport;
  if (transport === undefined) return ref.path;
  return `${transport}:${ref.path}${ref.ref !== undefined ? `:${ref.ref}` : ''}`;
}

/** Whether `flatten` to this destination writes the image to stdout (so reports go to stderr). */
export function writesToStdout(dest: string): boolean {
  return parseReference(dest, 'dest').transport === 'stdio';
}
