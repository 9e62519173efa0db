/**
 * Entry path normalisation: strip leading "./" and trailing "/", collapse "//" and "/./";
 * "." is the root (""). Absolute paths and ".." components are refused (TarProblem BAD_PATH).
 */
import { TarProblem } from './fail.js';

/** Normalise a stored path (binary string). Throws TarProblem('BAD_PATH') if absolute or with "..". */
export function normalizePath(raw: string, what = 'path'): string {
  if (isClean(raw)) return raw;
  if (raw.startsWith('/')) throw new TarProblem('BAD_PATH', `absolute ${what} ${JSON.stringify(raw)}`);
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new TarProblem('BAD_PATH', `${what} ${JSON.stringify(raw)} contains ".."`);
    parts.push(part);
  }
  return parts.join('/');
}

/** Fast path: no leading "." or "/", no "//", no "/.", no trailing "/". */
function isClean(p: string): boolean {
  const c = p.charCodeAt(0);
  return (
    p.length > 0 &&
    c !== 0x2e &&
    c !== 0x2f &&
    p.charCodeAt(p.length - 1) !== 0x2f &&
    !p.includes('//') &&
    !p.includes('/.')
  );
}
