/**
 * What follows "docker-daemon:", as skopeo spells it: an image NAME[:TAG] (no tag means
 * :latest), or — for a source only — its ID, "sha256:" and all 64 hex digits, or a short ID
 * (hex digits alone, which the daemon resolves as `docker` does: a name first, then an ID prefix).
 */
import { LayerflatError } from '../../errors.js';
import { parseImageName } from '../../image/name.js';

function bad(text: string, why: string): LayerflatError {
  return new LayerflatError('BAD_REFERENCE', `invalid image reference "${text}": ${why}`);
}

/** The daemon's name for the image `rest` names (`text` is the whole reference, for messages). */
export function parseDaemonImage(rest: string, role: 'source' | 'dest', text: string): string {
  if (rest === '') throw bad(text, 'no image name after "docker-daemon:"; use docker-daemon:NAME[:TAG]');
  if (rest.startsWith('sha256:')) {
    if (role === 'dest') throw bad(text, 'a docker-daemon destination needs a NAME[:TAG], not an image ID');
    if (!/^sha256:[a-f0-9]{64}$/.test(rest)) {
      throw bad(text, 'an image ID after "sha256:" has all 64 hex digits; give a short ID without "sha256:"');
    }
    return rest;
  }
  if (rest.includes('@')) {
    throw bad(text, 'docker-daemon: references with a digest are not supported; use NAME:TAG or the image ID');
  }
  if (parseImageName(rest) === undefined) {
    throw bad(text, `"${rest}" is not an image name (expected NAME[:TAG] with a lower-case NAME) or ID`);
  }
  if (role === 'dest' && /^[a-f0-9]{64}$/.test(rest.split(':', 1)[0]!)) {
    throw bad(text, 'a docker-daemon destination name cannot be 64 hex digits (the daemon takes that for an ID)');
  }
  return rest;
}
