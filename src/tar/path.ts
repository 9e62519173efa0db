/**
 * Entry path normalisation as the engines read names: strip leading "./" and trailing "/",
 * collapse "//" and "/./", resolve "..", and re-root an absolute name ("/etc/passwd" is
 * "etc/passwd" — docker and podman both load such layers so). "." is the root (""). A name that
 * still climbs above the root once cleaned ("../x", "a/../../b") is a breakout attempt and is
 * refused (TarProblem BAD_PATH), where the engines would clamp it.
 */
import { TarProblem } from './fail.js';

/** Normalise a stored path (binary string). Throws TarProblem('BAD_PATH') if it escapes the root. */
export function normalizePath(raw: string, what = 'path'): string {
  if (isClean(raw)) return raw;
  // The common unclean name is a directory's trailing "/": strip it before splitting a long path.
  let end = raw.length;
  while (end > 1 && raw.charCodeAt(end - 1) === 0x2f) end--;
  if (end < raw.length && isClean(raw.slice(0, end))) return raw.slice(0, end);
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.pop() === undefined) {
      throw new TarProblem('BAD_PATH', `${what} ${JSON.stringify(raw)} climbs above the root`);
    }
  }
  return parts.join('/');
}

/** Whether a stored name is absolute (engines re-root it; their duplicate check still tells it apart). */
export function isRooted(raw: string): boolean {
  return raw.startsWith('/');
}

/**
 * Whether a name is already clean: relative, no empty, "." or ".." component, no trailing "/".
 * One pass over the characters: names can be thousands of components long, and
 * `includes('//')` on such a name was the slowest step of reading a deep nest.
 */
function isClean(p: string): boolean {
  if (p.length === 0 || p.charCodeAt(0) === 0x2f) return false;
  let start = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i < p.length && p.charCodeAt(i) !== 0x2f) continue;
    const len = i - start;
    if (len === 0) return false;
    if (p.charCodeAt(start) === 0x2e && (len === 1 || (len === 2 && p.charCodeAt(start + 1) === 0x2e))) return false;
    start = i + 1;
  }
  return true;
}
