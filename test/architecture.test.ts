/**
 * The boundaries of ../shared/ARCHITECTURE.md (revision 2), checked by reading the sources: what
 * each folder may import, who may touch files and the process, that every runtime dependency is
 * used, that test/ mirrors src/, and the line length the formatter cannot enforce.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve('.');
const SRC = path.join(ROOT, 'src');

function sources(dir: string, ext = /\.ts$/): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'fixtures' || d.name === 'node_modules' ? [] : sources(p, ext);
    return ext.test(p) ? [p] : [];
  });
}

/** Every import of a file: node built-ins as "node:x", packages by name, our files as src-relative paths. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'";]*from\s+'([^']+)'/gm)].map(([, spec]) => {
    if (!spec!.startsWith('.')) return spec!;
    return path.relative(SRC, path.resolve(path.dirname(file), spec!)).replace(/\.js$/, '.ts');
  });
}

/** The code of a file without its comments (so a comment may name what the code must not use). */
function code(file: string): string {
  return fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const rel = (f: string) => path.relative(SRC, f);
const files = sources(SRC);
const inFolder = (...folders: string[]) => files.filter((f) => folders.some((d) => rel(f).startsWith(`${d}/`)));
const ours = (f: string) => importsOf(f).filter((i) => i.endsWith('.ts'));

describe('module boundaries', () => {
  it('image/, compress/, tar/ and bytes/ use Node built-ins and each other only', () => {
    for (const f of inFolder('image', 'compress', 'tar', 'bytes')) {
      const bad = importsOf(f).filter(
        (i) => !i.startsWith('node:') && !/^(image|compress|tar|bytes)\/|^errors\.ts$/.test(i),
      );
      expect(bad, rel(f)).toEqual([]);
    }
  });

  it('engine/ and merge/ are pure: no node: module at all, nothing that reads bytes or files', () => {
    for (const f of inFolder('engine', 'merge')) {
      const bad = importsOf(f).filter(
        (i) =>
          i.startsWith('node:') || !/^(engine|merge)\/|^errors\.ts$|^tar\/(entry|reader|writer|header)\.ts$/.test(i),
      );
      expect(bad, rel(f)).toEqual([]);
    }
  });

  it('engine/ knows nothing of the merge', () => {
    for (const f of inFolder('engine'))
      expect(
        ours(f).filter((i) => i.startsWith('merge/')),
        rel(f),
      ).toEqual([]);
  });

  it(
    'only bytes/, tar/ (its file reader and archive writer), layers/, ' + 'formats/, fsio/ and transports/ touch files',
    () => {
      const allowed = /^(bytes|tar|layers|formats|fsio|transports)\/|^compress\/tools\.ts$/; // tools: a PATH lookup
      for (const f of files) {
        const fsUse = importsOf(f).some((i) => i === 'node:fs' || i === 'node:fs/promises');
        if (fsUse) expect(allowed.test(rel(f)), rel(f)).toBe(true);
      }
    },
  );

  it('a transport never imports another transport', () => {
    const shared = /^transports\/(index|types|reference)\.ts$/;
    const transports = inFolder('transports').filter((f) => !shared.test(rel(f)));
    // a transport is a file or a folder of them (transports/podman/): its own files may import each other
    const unit = (p: string) => p.split('/').slice(0, 2).join('/').replace(/\.ts$/, '');
    for (const f of transports)
      expect(
        ours(f).filter((i) => i.startsWith('transports/') && !shared.test(i) && unit(i) !== unit(rel(f))),
        rel(f),
      ).toEqual([]);
  });

  it('formats/ never import transports/, and the use cases never reach into formats/', () => {
    for (const f of inFolder('formats'))
      expect(
        ours(f).filter((i) => i.startsWith('transports/')),
        rel(f),
      ).toEqual([]);
    for (const f of inFolder('flatten', 'verify', 'inspect', 'unpack')) {
      expect(
        ours(f).filter((i) => /^(formats|fsio)\//.test(i) && i !== 'formats/detect.ts'),
        rel(f),
      ).toEqual([]);
    }
  });

  it('reclaim/ keeps state through fsio/ (the lock, atomic records), reaches engines through transports/', () => {
    for (const f of inFolder('reclaim')) {
      const bad = ours(f).filter(
        (i) => i.startsWith('formats/') || (i.startsWith('fsio/') && !/^fsio\/(lock|records)\.ts$/.test(i)),
      );
      expect(bad, rel(f)).toEqual([]);
      expect(
        ours(f).filter((i) => i.startsWith('transports/') && !/^transports\/(index|types)\.ts$/.test(i)),
        rel(f),
      ).toEqual([]);
    }
  });

  it('nothing outside cli/ touches process.stdout, process.stdin, process.on or process.exit', () => {
    for (const f of files.filter((f) => !rel(f).startsWith('cli/'))) {
      expect(code(f).match(/process\.(stdout|stdin|on|once|exit|off)\b/g) ?? [], rel(f)).toEqual([]);
    }
  });

  it('cli/ imports only the library API (and its own files)', () => {
    for (const f of inFolder('cli')) {
      expect(
        ours(f).filter((i) => !i.startsWith('cli/') && i !== 'index.ts'),
        rel(f),
      ).toEqual([]);
    }
  });
});

describe('the project', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

  it('uses every runtime dependency in src/', () => {
    const used = new Set(files.flatMap(importsOf).map((i) => i.split('/')[0]));
    for (const dep of Object.keys(pkg.dependencies ?? {})) expect(used.has(dep), dep).toBe(true);
  });

  it('has test/ mirror src/ folder for folder', () => {
    const folders = (dir: string) =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    const extra = ['e2e', 'fixtures', 'helpers', 'regressions'];
    expect(folders(path.join(ROOT, 'test')).filter((d) => !extra.includes(d))).toEqual(folders(SRC));
  });

  it('has no line over 120 characters', () => {
    const all = [...files, ...sources(path.join(ROOT, 'test')), ...sources(path.join(ROOT, 'scripts'), /\.(ts|mjs)$/)];
    const long = all.flatMap((f) =>
      fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.length > 120 ? [`${path.relative(ROOT, f)}:${i + 1} (${line.length})`] : [])),
    );
    expect(long).toEqual([]);
  });
});
