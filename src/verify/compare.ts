/**
 * Compare two merged filesystems path by path: type, mode, owner, mtime, size, content,
 * symlink target, device, xattrs, and which paths are hardlinks of one file.
 *
 * The two trees are walked side by side, directory by directory, with an explicit stack: no map
 * keyed by full paths (a path 10,000 levels deep is 20,000 characters, and hashing every one of
 * them cost more than reading the layers) and no recursion limit.
 */
import type { FsNode, FsTree } from '../engine/fs-tree.js';
import type { FileFacts } from './facts.js';

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
  /** Leave out xattrs whose name matches (what an engine's export does not keep). */
  ignoreXattr?: (name: string) => boolean;
  /**
   * Leave out a directory that only B has when nothing is left in it once `ignore` is applied
   * (the /etc an engine makes to hold its hosts file in an image that has none).
   */
  ignoreEmptyExtraDirs?: boolean;
  /**
   * B was written with --dedupe: B may hold as one file names that are separate files in A, when
   * A's files have the same content, mode, owner and xattrs; that file's mtime is one of theirs.
   */
  deduped?: boolean;
}

type Node = FsNode<FileFacts>;

/** Every difference between `a` and `b`, sorted by path. */
export function compareViews(a: FsTree<FileFacts>, b: FsTree<FileFacts>, options: CompareOptions = {}): Difference[] {
  const out: Difference[] = [];
  const ignore = new Set(options.ignore ?? []);
  const linksA = new LinkNames();
  const linksB = new LinkNames();
  const stack: [string, Node | undefined, Node | undefined][] = [['', a.root, b.root]];
  while (stack.length > 0) {
    const [path, l, r] = stack.pop()!;
    if (ignore.has(path)) continue;
    if (!l) {
      if (!(options.ignoreEmptyExtraDirs && r!.isDir && emptyOnceIgnored(path, r!, ignore))) {
        for (const [p, n] of subtree(path, r!, ignore)) out.push({ path: p, kind: 'extra', b: typeOf(n) });
      }
      continue;
    }
    if (!r) {
      for (const [p, n] of subtree(path, l, ignore)) out.push({ path: p, kind: 'missing', a: typeOf(n) });
      continue;
    }
    const differs = diffNodes(
      path,
      l,
      r,
      linksA.groupOf(path, l),
      linksB.groupOf(path, r, options.deduped ? l : undefined),
      options,
    );
    out.push(...differs);
    if (!l.isDir || !r.isDir) continue;
    const names = [...new Set([...l.children!.keys(), ...r.children!.keys()])].sort().reverse();
    for (const name of names)
      stack.push([path === '' ? name : `${path}/${name}`, l.children!.get(name), r.children!.get(name)]);
  }
  const kept = options.deduped ? out.filter((d) => !linksB.joinsIdentical(d)) : out;
  return kept.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/**
 * Which paths are names of one regular file: the first name each file was met under (walk order).
 * Only regular files: a hardlink to a symlink is kept by no engine's export as a hardlink (both
 * show two independent symlinks), so it is not a difference.
 */
class LinkNames {
  private readonly first = new Map<FileFacts, string>();
  /** For --dedupe: each file's names with the other side's facts for them, and each name's file. */
  private readonly others = new Map<FileFacts, FileFacts[]>();
  private readonly fileOf = new Map<string, FileFacts>();

  groupOf(path: string, node: Node, other?: Node): string {
    if (node.isDir || !node.value || node.value.type !== 'file') return path;
    if (other?.value) {
      const names = this.others.get(node.value);
      if (names) names.push(other.value);
      else this.others.set(node.value, [other.value]);
      this.fileOf.set(path, node.value);
    }
    const known = this.first.get(node.value);
    if (known !== undefined) return known;
    this.first.set(node.value, path);
    return path;
  }

  /**
   * Whether a hardlink or mtime difference at a path is --dedupe's doing: every name of this
   * side's file is, on the other side, a file with the same content, mode, owner and xattrs —
   * and the file's mtime is one of theirs.
   */
  joinsIdentical(d: Difference): boolean {
    if (d.kind !== 'hardlink' && d.kind !== 'mtime') return false;
    const file = this.fileOf.get(d.path);
    const names = file && this.others.get(file);
    if (!file || !names || names.length < 2) return false;
    const same = (f: FileFacts) =>
      f.type === 'file' &&
      f.sha256 === names[0]!.sha256 &&
      f.mode === names[0]!.mode &&
      f.uid === names[0]!.uid &&
      f.gid === names[0]!.gid &&
      JSON.stringify(f.xattrs) === JSON.stringify(names[0]!.xattrs);
    if (!names.every(same)) return false;
    return d.kind === 'hardlink' || names.some((f) => f.mtime === file.mtime);
  }
}

/** A node and everything below it that is not ignored, with their paths. */
function* subtree(path: string, node: Node, ignore: ReadonlySet<string>): Generator<[string, Node]> {
  const stack: [string, Node][] = [[path, node]];
  while (stack.length > 0) {
    const [p, n] = stack.pop()!;
    yield [p, n];
    for (const [name, child] of n.children ?? []) {
      const cp = p === '' ? name : `${p}/${name}`;
      if (!ignore.has(cp)) stack.push([cp, child]);
    }
  }
}

/** Whether everything below an extra directory is ignored (or it is empty). */
function emptyOnceIgnored(path: string, dir: Node, ignore: ReadonlySet<string>): boolean {
  const stack: [string, Node][] = [[path, dir]];
  while (stack.length > 0) {
    const [p, n] = stack.pop()!;
    for (const [name, child] of n.children ?? []) {
      const cp = p === '' ? name : `${p}/${name}`;
      if (ignore.has(cp)) continue;
      if (!child.isDir) return false;
      stack.push([cp, child]);
    }
  }
  return true;
}

function diffNodes(path: string, l: Node, r: Node, groupA: string, groupB: string, o: CompareOptions): Difference[] {
  const a = l.value;
  const b = r.value;
  const out: Difference[] = [];
  const add = (kind: DifferenceKind, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ path, kind, a: String(x), b: String(y) });
  };
  add('type', typeOf(l), typeOf(r));
  if (out.length) return out;
  if (!a || !b) return out; // an implicit directory on either side: no metadata to compare
  add('mode', a.mode.toString(8), b.mode.toString(8));
  add('owner', `${a.uid}:${a.gid}`, `${b.uid}:${b.gid}`);
  // An mtime an engine stamps when it loads a layer is known on neither side (see facts.ts).
  const mtimes = a.mtime !== undefined && b.mtime !== undefined && !o.ignoreMtimeOf?.includes(path);
  if (mtimes) add('mtime', a.mtime, b.mtime);
  add('size', a.size, b.size);
  add('content', a.sha256, b.sha256);
  add('symlink', a.linkname, b.linkname);
  add('device', a.device, b.device);
  add('xattrs', JSON.stringify(kept(a.xattrs, o)), JSON.stringify(kept(b.xattrs, o)));
  add('hardlink', groupA, groupB);
  return out;
}

/** The xattrs to compare, by name (the order headers gave them in is no difference). */
function kept(xattrs: Record<string, string>, o: CompareOptions): Record<string, string> {
  const skip = o.ignoreXattr;
  const entries = Object.entries(xattrs).filter(([k]) => !skip?.(k));
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function typeOf(node: Node): string {
  return node.isDir ? 'dir' : (node.value?.type ?? 'dir');
}
