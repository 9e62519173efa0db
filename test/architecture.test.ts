/**
 * The module boundaries of ../shared/ARCHITECTURE.md, checked by reading the imports:
 * formats never know each other, the merge knows nothing about files or the CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every import of a file: node built-ins as "node:x", packages by name, our files as src-relative paths. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map(([, spec]) => {
    if (!spec!.startsWith('.')) return spec!;
    return path.relative(SRC, path.resolve(path.dirname(file), spec!)).replace(/\.js$/, '.ts');
  });
}

const rel = (f: string) => path.relative(SRC, f);
const files = sources(SRC);
const ourImports = (f: string) => importsOf(f).filter((i) => !i.startsWith('node:') && i.endsWith('.ts'));

describe('module boundaries', () => {
  it('image/, compress/ and tar/ use Node built-ins and each other only', () => {
    for (const f of files.filter((f) => /^(image|compress|tar)\//.test(rel(f)))) {
      const bad = importsOf(f).filter((i) => !i.startsWith('node:') && !/^(image|compress|tar)\/|^errors\.ts$/.test(i));
      expect(bad, rel(f)).toEqual([]);
    }
  });

  it('merge/ planner files import only types and pure helpers — no fs, no streams', () => {
    for (const f of files.filter((f) => rel(f).startsWith('merge/') && !rel(f).endsWith('merge-stream.ts'))) {
      const text = fs.readFileSync(f, 'utf8');
      expect(
        importsOf(f).filter((i) => i.startsWith('node:')),
        rel(f),
      ).toEqual([]);
      expect(/from '\.\.\/(transports|cli|compress)\//.test(text), rel(f)).toBe(false);
    }
  });

  it('a transport never imports another transport', () => {
    const transports = files.filter(
      (f) => /^transports\/[^/]+\.ts$/.test(rel(f)) && !/\/(index|types|reference)\.ts$/.test(f),
    );
    const names = transports.map(rel);
    for (const f of transports)
      expect(
        ourImports(f).filter((i) => names.includes(i) && i !== rel(f)),
        rel(f),
      ).toEqual([]);
  });

  it('cli/ imports only the library API', () => {
    for (const f of files.filter((f) => rel(f).startsWith('cli/'))) {
      expect(
        ourImports(f).filter((i) => !i.startsWith('cli/') && i !== 'index.ts'),
        rel(f),
      ).toEqual([]);
    }
  });
});
