/**
 * The engine's own view of a fixture image — `docker export` / `podman export` of a container,
 * listed by test/fixtures/build/listing.py — and the same listing made from one of our views,
 * so integration tests compare layerflat's output with what the real engine showed.
 */
import fs from 'node:fs';
import type { FileFacts } from '../../src/verify/facts.js';
import type { FsTree } from '../../src/engine/fs-tree.js';

/** One path: every column but the path, hardlinks shown as files plus a group key. */
export type Listing = Map<string, string>;

const TYPE_LETTER: Record<string, string> = {
  file: 'f',
  dir: 'd',
  symlink: 'l',
  chardev: 'c',
  blockdev: 'b',
  fifo: 'p',
};

/** Parse a listing.py "export" listing. */
export function parseListing(file: string): Listing {
  const rows = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const cols = rows.map((r) => r.split('\t'));
  const groups = new Map<string, string[]>();
  for (const c of cols) if (c[8] !== '-') groups.set(c[8]!, [...(groups.get(c[8]!) ?? []), c[0]!]);
  const out: Listing = new Map();
  for (const [path, type, mode, owner, mtime, size, sha, target, hardlink, dev, xattrs] of cols) {
    const members = hardlink === '-' ? undefined : groups.get(hardlink!);
    const group = members && members.length > 1 ? [...members].sort()[0]! : '-';
    const t = type === 'h' ? 'f' : type!;
    out.set(
      unescape(path!),
      [t, mode, owner, mtime, size, sha, t === 'l' ? unescape(target!) : '-', group, dev, xattrs].join(' '),
    );
  }
  return out;
}

/** The same listing made from a merged view. */
export function listView(tree: FsTree<FileFacts>): Listing {
  const members = new Map<FileFacts, string[]>();
  const nodes = [...tree.walk()];
  for (const [path, node] of nodes)
    if (node.value && !node.isDir) members.set(node.value, [...(members.get(node.value) ?? []), `/${utf8(path)}`]);
  const out: Listing = new Map();
  for (const [path, node] of nodes) {
    const f = node.value;
    const p = path === '' ? '/' : `/${utf8(path)}`;
    if (!f) {
      if (path !== '') out.set(p, 'd (implicit)'); // exports list no root entry
      continue;
    }
    const group = members.get(f)!;
    const xattrs =
      Object.entries(f.xattrs)
        .map(([k, v]) => `${utf8(k)}=${v}`)
        .join(',') || '-';
    out.set(
      p,
      [
        node.isDir ? 'd' : (TYPE_LETTER[f.type] ?? f.type),
        f.mode.toString(8).padStart(4, '0'),
        `${f.uid}:${f.gid}`,
        String(f.mtime),
        String(f.size),
        f.sha256 ?? '-',
        f.linkname !== undefined ? utf8(f.linkname) : '-',
        !node.isDir && group.length > 1 ? [...group].sort()[0]! : '-',
        f.device?.replace(':', ',') ?? '-',
        xattrs,
      ].join(' '),
    );
  }
  return out;
}

/**
 * Differences between two listings, leaving out `ignore`d paths (and below) and the mtimes of
 * `engineDirs` — directories the engine touches, or makes when the image lacks them (/etc for
 * /etc/hosts), when it creates a container.
 */
export function diffListings(expected: Listing, actual: Listing, ignore: string[], engineDirs: string[]): string[] {
  const skip = (p: string) => ignore.some((i) => p === i || p.startsWith(`${i}/`));
  const norm = (p: string, row: string) =>
    engineDirs.includes(p)
      ? row
          .split(' ')
          .map((c, i) => (i === 3 ? '*' : c))
          .join(' ')
      : row;
  const out: string[] = [];
  for (const [p, row] of expected) {
    if (skip(p)) continue;
    const got = actual.get(p);
    if (got === undefined && !engineDirs.includes(p)) out.push(`missing ${p}: ${row}`);
    else if (got === undefined) continue;
    else if (norm(p, got) !== norm(p, row)) out.push(`differs ${p}:\n  engine: ${row}\n  ours:   ${got}`);
  }
  for (const [p, row] of actual) if (!skip(p) && !expected.has(p)) out.push(`extra ${p}: ${row}`);
  return out;
}

function utf8(binary: string): string {
  return Buffer.from(binary, 'latin1').toString('utf8');
}

function unescape(s: string): string {
  return s.replace(/\\(\\|t|n)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : '\\'));
}
