/**
 * A filesystem built the way an engine builds it: layers applied bottom-up, one entry at a time,
 * onto an in-memory tree. This is the reference the flat image is checked against — written
 * independently of the top-down merge planner, so each checks the other.
 *
 * Nodes remember which layer last wrote them; that is how a layer's whiteouts (applied when
 * the layer ends) delete only what lower layers made, wherever the marker stood in the tar.
 */
import { LayerflatError } from '../errors.js';
import { displayPath, type EntryType } from '../tar/entry.js';
import { classifyWhiteout } from '../merge/whiteout.js';

export interface FsNode<T> {
  isDir: boolean;
  /** The entry's value; undefined for a directory made implicitly as a parent. */
  value?: T;
  /** The layer that created or last rewrote this node. */
  layer: number;
  children?: Map<string, FsNode<T>>;
}

/** What applying one entry needs: its path, type, hardlink target and the value to store. */
export interface ApplyEntry<T> {
  path: string;
  type: EntryType;
  linkname: string;
  value: T;
}

export class FsTree<T> {
  readonly root: FsNode<T> = { isDir: true, layer: -1, children: new Map() };
  private pending: { kind: 'whiteout' | 'opaque'; path: string }[] = [];
  private layer = -1;

  /** Start applying layer `index` (layers must come bottom-up). */
  startLayer(index: number): void {
    this.layer = index;
    this.pending = [];
  }

  /** Apply one entry. A hardlink stores its target's value (the same object: one file). */
  apply(entry: ApplyEntry<T>, where: string): void {
    const wh = classifyWhiteout(entry.path, where);
    if (wh.kind === 'whiteout') return void this.pending.push({ kind: 'whiteout', path: wh.target });
    if (wh.kind === 'opaque') return void this.pending.push({ kind: 'opaque', path: wh.dir });
    if (wh.kind === 'aufs-meta') return;
    let value = entry.value;
    if (entry.type === 'hardlink') {
      const target = this.lookup(entry.linkname);
      if (!target || target.isDir || target.value === undefined) {
        throw new LayerflatError('BAD_TAR', `${where}: hardlink "${displayPath(entry.path)}" → missing "${displayPath(entry.linkname)}"`);
      }
      value = target.value;
    }
    this.put(entry.path, entry.type === 'dir', value);
  }

  /** Finish the layer: its whiteouts and opaque markers now act on what lower layers made. */
  endLayer(): void {
    for (const w of this.pending) {
      const node = this.lookup(w.path);
      if (!node) continue;
      if (w.kind === 'opaque') this.purgeLower(node);
      else if (this.dropLower(node)) this.remove(w.path);
    }
    this.pending = [];
  }

  /** The node at `path`, without following symlinks. */
  lookup(path: string): FsNode<T> | undefined {
    let node: FsNode<T> | undefined = this.root;
    if (path === '') return node;
    for (const name of path.split('/')) {
      node = node?.children?.get(name);
      if (!node) return undefined;
    }
    return node;
  }

  /** Every node, parents before children, with its path; children in byte order. */
  *walk(node: FsNode<T> = this.root, path = ''): Generator<[string, FsNode<T>]> {
    yield [path, node];
    if (!node.children) return;
    for (const name of [...node.children.keys()].sort()) {
      yield* this.walk(node.children.get(name)!, path === '' ? name : `${path}/${name}`);
    }
  }

  private put(path: string, isDir: boolean, value: T): void {
    if (path === '') {
      this.root.value = value;
      this.root.layer = this.layer;
      return;
    }
    const names = path.split('/');
    const base = names.pop()!;
    let parent = this.root;
    for (const name of names) parent = this.dirChild(parent, name);
    const old = parent.children!.get(base);
    if (old && old.isDir && isDir) {
      old.value = value; // a directory over a directory merges; the upper metadata wins
      old.layer = this.layer;
      return;
    }
    parent.children!.set(base, { isDir, value, layer: this.layer, children: isDir ? new Map() : undefined });
  }

  /** The directory `name` under `parent`, made (or made to replace a non-directory) if needed. */
  private dirChild(parent: FsNode<T>, name: string): FsNode<T> {
    const existing = parent.children!.get(name);
    if (existing?.isDir) return existing;
    const dir: FsNode<T> = { isDir: true, layer: this.layer, children: new Map() };
    parent.children!.set(name, dir);
    return dir;
  }

  private remove(path: string): void {
    const slash = path.lastIndexOf('/');
    const parent = this.lookup(slash < 0 ? '' : path.slice(0, slash));
    parent?.children?.delete(slash < 0 ? path : path.slice(slash + 1));
  }

  /** Delete everything under `node` that lower layers made; keep what this layer wrote. */
  private purgeLower(node: FsNode<T>): void {
    if (!node.children) return;
    for (const [name, child] of node.children) if (this.dropLower(child)) node.children.delete(name);
  }

  /**
   * Whether `node` goes entirely. A lower node that holds entries of this layer stays as a bare
   * directory (its own entry was deleted; this layer's entries below it made it again).
   */
  private dropLower(node: FsNode<T>): boolean {
    this.purgeLower(node);
    if (node.layer === this.layer) return false;
    if (node.children && node.children.size > 0) {
      node.value = undefined;
      return false;
    }
    return true;
  }
}
