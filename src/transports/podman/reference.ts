/**
 * `containers-storage:NAME[:TAG]|ID` (as skopeo and podman users write it) and its alias
 * `podman:…`: an image in the storage of the podman that runs as the user running layerflat.
 * Pure: no podman is asked anything here.
 */
import { LayerflatError } from '../../errors.js';
import { parseImageName } from '../../image/name.js';

/** The prefixes that name podman's storage. */
export const PODMAN_PREFIXES = ['containers-storage', 'podman'] as const;

/** An image ID as podman takes it: "sha256:" and a prefix, or all 64 hex digits. */
const FULL_ID = /^(?:sha256:[a-f0-9]{4,64}|[a-f0-9]{64})$/;
/** A unique prefix of an image ID (podman accepts 3 digits; so do we). */
const SHORT_ID = /^[a-f0-9]{3,63}$/;

function bad(text: string, why: string): LayerflatError {
  return new LayerflatError('BAD_REFERENCE', `invalid image reference "${text}": ${why}`);
}

/**
 * The image `rest` (what follows "containers-storage:") names, checked. A source may be a name
 * or an image ID; a destination must be a name. A `[driver@root+runroot]` store specifier is
 * refused: layerflat uses the store podman itself is configured with.
 */
export function parsePodmanImage(text: string, rest: string, role: 'source' | 'dest'): string {
  if (rest === '') throw bad(text, 'no image name or ID after the transport');
  if (rest.startsWith('[')) {
    throw new LayerflatError(
      'UNSUPPORTED',
      `"${text}": a [storage-specifier] is not supported; layerflat runs podman as you with its own ` +
        'configured storage (for another store, configure podman: storage.conf or CONTAINERS_STORAGE_CONF)',
    );
  }
  // podman would read a leading "-" as one of its options
  if (rest.startsWith('-') || /\s/.test(rest)) throw bad(text, `"${rest}" is not an image name or ID`);
  // "sha256:…" or 64 hex digits can only be an ID; a short hex word such as "cafe" may be
  // either, and podman decides (an ID prefix first, as it always does)
  if (FULL_ID.test(rest)) {
    if (role === 'dest') throw bad(text, 'a destination needs a name[:tag], not an image ID');
    return rest;
  }
  if (SHORT_ID.test(rest) && role === 'source') return rest;
  const [name, digest] = rest.split('@', 2) as [string, string | undefined];
  if (parseImageName(name) === undefined || (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest))) {
    throw bad(text, `"${rest}" is not an image name (repo[:tag], lower-case repo) or image ID`);
  }
  if (digest !== undefined && role === 'dest') throw bad(text, 'a destination needs a name[:tag], not a digest');
  return rest;
}
