/**
 * Finding external programs (zstd) on PATH. The lookup reads process.env.PATH at call time, so a
 * caller (or a test) that changes PATH sees the change; results are cached per PATH value.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { LayerflatError } from '../errors.js';

const cache = new Map<string, string | null>();

/** The absolute path of `name` on process.env.PATH, or undefined if no executable file has that name. */
export function findExecutable(name: string): string | undefined {
  const pathVar = process.env.PATH ?? '';
  const key = `${name}\0${pathVar}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  let found: string | null = null;
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue; // relative PATH entries are a trap; skip them
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (!statSync(candidate).isFile()) continue;
      found = candidate;
      break;
    } catch {
      // not here
    }
  }
  cache.set(key, found);
  return found ?? undefined;
}

/** Debian/Ubuntu packages that provide the tools we may run. */
const PACKAGES: Record<string, string> = { zstd: 'zstd', pigz: 'pigz', gzip: 'gzip' };

/** The error for a missing tool: names the binary, why we need it, and how to install it. */
export function missingTool(name: string, purpose: string, cause?: unknown): LayerflatError {
  const pkg = PACKAGES[name] ?? name;
  return new LayerflatError(
    'MISSING_TOOL',
    `the \`${name}\` program is needed to ${purpose} but was not found on PATH; install it ` +
      `(Debian/Ubuntu: "apt-get install ${pkg}", Alpine: "apk add ${pkg}", macOS: "brew install ${pkg}")`,
    cause === undefined ? undefined : { cause },
  );
}

/** findExecutable, or throw MISSING_TOOL. */
export function requireExecutable(name: string, purpose: string): string {
  const found = findExecutable(name);
  if (found === undefined) throw missingTool(name, purpose);
  return found;
}
