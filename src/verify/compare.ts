/**
 * Compare two merged filesystems path by path: type, mode, owner, mtime, size, content,
 * symlink target, device, xattrs, and which paths are hardlinks of one file.
 */
import type { FileFacts } from './facts.js';
import type { FsNode, FsTree } from '../engine/fs-tree.js';

export type DifferenceKind =
  | 'missing' // in A only
  | 'extra' // in B only
  | 'type'
  | 'mode'
  | 'owner'
  | 'mtime'
  | 'size'
  | 'content'
  | 'symlink'
  | 'device'
  | 'xattrs'
  | 'hardlink';

export interface Difference {
  path: string;
  kind: DifferenceKind;
  a?: string;
  b?: string;
}

export interface CompareOptions {
  /** Paths to leave out, with everything below them ("etc/hosts", "proc"). */
  ignore?: readonly string[];
  /** Leave out the mtime of these paths (directories an engine touches when it makes a container). */
  ignoreMtimeOf?: readonly string[];
}

/** Every difference between `a` and `b`, sorted by path. */
export function compareViews(a: FsTree<FileFacts>, b: FsTree<FileFacts>, options: CompareOptions = {}): Difference[] {
  const left = flattenTree(a, options.ignore ?? []);
  const right = flattenTree(b, options.ignore ?? []);
  const out: Difference[] = [];
  for (const [path, l] of left) {
    const r = right.get(path);
    if (!r) out.push({ path, kind: 'missing', a: describe(l) });
    else out.push(...diffFacts(path, l, r, options));
  }
  for (const [path, r] of right) if (!left.has(path)) out.push({ path, kind: 'extra', b: describe(r) });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

interface Flat {
  node: FsNode<FileFacts>;
  /** The first path (in walk order) of the file this path is a name of. */
  linkGroup: string;
}

function flattenTree(tree: FsTree<FileFacts>, ignore: readonly string[]): Map<string, Flat> {
  const out = new Map<string, Flat>();
  const firstName = new Map<FileFacts, string>();
  for (const [path, node] of tree.walk()) {
    if (ignore.some((i) => path === i || path.startsWith(`${i}/`))) continue;
    let linkGroup = path;
    if (node.value && !node.isDir) {
      linkGroup = firstName.get(node.value) ?? path;
      if (!firstName.has(node.value)) firstName.set(node.value, path);
    }
    out.set(path, { node, linkGroup });
  }
  return out;
}

function diffFacts(path: string, l: Flat, r: Flat, o: CompareOptions): Difference[] {
  const a = l.node.value;
  const b = r.node.value;
  const out: Difference[] = [];
  const add = (kind: DifferenceKind, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ path, kind, a: String(x), b: String(y) });
  };
  add('type', typeOf(l.node), typeOf(r.node));
  if (out.length) return out;
  if (!a || !b) return out; // an implicit directory on either side: no metadata to compare
  add('mode', a.mode.toString(8), b.mode.toString(8));
  add('owner', `${a.uid}:${a.gid}`, `${b.uid}:${b.gid}`);
  if (!o.ignoreMtimeOf?.includes(path)) add('mtime', a.mtime, b.mtime);
  add('size', a.size, b.size);
  add('content', a.sha256, b.sha256);
  add('symlink', a.linkname, b.linkname);
  add('device', a.device, b.device);
  add('xattrs', JSON.stringify(a.xattrs), JSON.stringify(b.xattrs));
  add('hardlink', l.linkGroup, r.linkGroup);
  return out;
}

function typeOf(node: FsNode<FileFacts>): string {
  return node.isDir ? 'dir' : (node.value?.type ?? 'dir');
}

function describe(f: Flat): string {
  return typeOf(f.node);
}
