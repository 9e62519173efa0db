/**
 * A flat filesystem written into a directory, entry by entry: the `dir:` rootfs place. What it
 * is given is the flat layer (the merge plan's entries, each surviving file once); it applies
 * them as an engine applies one layer onto an empty root, through the engine's own tree
 * (engine/fs-tree.ts), which says where each name lands — parents resolved through symlinks as
 * in a chroot, so `link -> /etc` then `link/passwd` is DIR/etc/passwd — and what it replaces.
 * The disk only ever follows that tree:
 *
 * - every parent directory is one this writer made itself (mkdir, never through a symlink) and
 *   that the tree still holds; anything else is a bug and stops the run;
 * - the last component is created, never opened: O_CREAT|O_EXCL|O_NOFOLLOW for files, mkdir,
 *   symlink and link all fail on anything already there rather than follow it;
 * - a hardlink links to the name the tree resolved, inside DIR, and only to something written;
 * - names are bytes (tar names need not be UTF-8): paths are Buffers.
 *
 * Metadata, in the order the kernel needs: a file's content, then its owner (chown clears setuid
 * and file capabilities), then its mode, then its times; extended attributes for all paths at the
 * end in one setfattr run (Node has none); directories last, deepest first, once nothing more is
 * written into them, so their mtimes stand and a read-only directory is not needed writable.
 *
 * The fs calls are synchronous: a file is a handful of syscalls of microseconds each, and going
 * through the threadpool for each would cost more than the calls; only content is large, and it
 * is written chunk by chunk as it is read (the chunks may be reused buffers: each is written
 * before the next is asked for).
 */
import fs from 'node:fs';
import { FsTree, type FsNode } from '../../engine/fs-tree.js';
import { applied, type EntryMeta } from '../../engine/meta.js';
import { isStorageArtefactXattr } from '../../engine/whiteout.js';
import { LayerflatError, withContext } from '../../errors.js';
import { displayPath, type EntryType, type TarEntry } from '../../tar/entry.js';
import { describeMap, mapsId, type Ownership } from './owners.js';
import { sparseWrites } from './sparse.js';
import { dumpRecord, findSetfattr, mknod, requireMknod, restoreXattrs, setfattrMissing } from './tools.js';

/** What the writer needs of an entry (a tar entry has it all). */
export type RootfsEntry = Pick<
  TarEntry,
  | 'path'
  | 'type'
  | 'linkname'
  | 'mode'
  | 'uid'
  | 'gid'
  | 'mtime'
  | 'xattrs'
  | 'size'
  | 'devmajor'
  | 'devminor'
  | 'sparse'
  | 'rooted'
>;

/** One file of the rootfs (several names when hardlinked): what its last header said. */
interface Inode {
  type: EntryType;
  meta: EntryMeta;
  /** On disk (a device node the kernel refused is not). */
  made: boolean;
}

/** A tree node; a directory made implicitly, as a parent, has no value. */
type Node = FsNode<Inode | undefined>;

type Change = { op: 'link'; parent: Node; name: string; node: Node } | { op: 'unlink'; parent: Node; name: string };

export interface RootfsStats {
  files: number;
  dirs: number;
  symlinks: number;
  /** Names after the first of a file. */
  hardlinks: number;
  fifos: number;
  /** Device nodes made, and those skipped (the kernel refuses them without CAP_MKNOD, in a user namespace). */
  devices: number;
  devicesSkipped: number;
  /** Extended attributes set, and those skipped (--no-xattrs, or that no unprivileged process can set). */
  xattrs: number;
  xattrsSkipped: number;
  /** Bytes of file content written. */
  bytes: number;
}

export interface RootfsWriterOptions {
  ownership: Ownership;
  /** Set extended attributes (false: --no-xattrs; they are counted as skipped). */
  xattrs: boolean;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = fs.constants;

export class RootfsWriter {
  readonly stats: RootfsStats = {
    files: 0,
    dirs: 0,
    symlinks: 0,
    hardlinks: 0,
    fifos: 0,
    devices: 0,
    devicesSkipped: 0,
    xattrs: 0,
    xattrsSkipped: 0,
    bytes: 0,
  };
  private readonly tree: FsTree<Inode | undefined>;
  /** The tree's changes while one entry is applied, then done on disk in order. */
  private changes: Change[] = [];
  /** Where each directory node is, relative to DIR (binary string). */
  private readonly paths = new Map<Node, string>();
  /** Directories this writer made (and the root): the only parents anything is created in. */
  private readonly made = new WeakSet<Node>();
  private readonly dirBytes: Buffer;
  private setfattr: string | undefined;
  private mknodProgram: string | undefined;
  /** The kernel refused a device node once: the others are skipped without asking. */
  private devicesRefused = false;
  /** Attributes not set, by why (for one warning line). */
  readonly xattrSkips = new Map<string, number>();
  private nodeSeq = 0;

  /** `dir`: the rootfs directory, absolute, with no symlink in it (realpath), empty. */
  constructor(
    private readonly dir: string,
    private readonly options: RootfsWriterOptions,
  ) {
    this.dirBytes = Buffer.from(dir, 'utf8');
    this.tree = new FsTree<Inode | undefined>({
      observer: {
        linked: (parent, name, node) => this.changes.push({ op: 'link', parent, name, node }),
        unlinked: (parent, name) => this.changes.push({ op: 'unlink', parent, name }),
        released: (node) => void this.paths.delete(node),
      },
      // A hardlink's header sets the file's owner, mode and mtime and adds its xattrs (engines).
      onLink: (file, link) => {
        if (file && link) file.meta = applied(file.meta, link.meta);
      },
    });
    this.tree.startLayer(0);
    this.paths.set(this.tree.root, '');
    this.made.add(this.tree.root);
  }

  /** Write one entry of the flat layer; `body` streams a file's stored data. */
  async write(entry: RootfsEntry, body?: () => AsyncIterable<Buffer>): Promise<void> {
    try {
      await this.apply(entry, body);
    } catch (err) {
      throw withContext(err, `unpacking "${displayPath(entry.path)}" into ${this.dir}`);
    }
  }

  private async apply(entry: RootfsEntry, body?: () => AsyncIterable<Buffer>): Promise<void> {
    if (entry.type === 'other') {
      throw new LayerflatError(
        'UNSUPPORTED',
        'a tar entry of a type no engine unpacks (not a file, link, dir or device)',
      );
    }
    const xattrs = new Map([...entry.xattrs].filter(([k]) => !isStorageArtefactXattr(k)));
    // setfattr is looked for at the first attribute it will have to set, before more is written for nothing.
    const kind = entry.type === 'hardlink' ? 'file' : entry.type;
    if ([...xattrs.keys()].some((name) => this.unsettable(name, kind) === undefined)) this.needSetfattr();
    const { mode, uid, gid, mtime } = entry;
    const inode: Inode = { type: entry.type, meta: { mode: mode & 0o7777, uid, gid, mtime, xattrs }, made: false };
    // Where a hardlink's target is, its parents resolved (before this entry changes anything).
    const target = entry.type === 'hardlink' ? this.tree.resolvedPath(entry.linkname) : undefined;
    this.changes = [];
    const { path, type, linkname, rooted } = entry;
    this.tree.apply({ path, type, linkname, value: inode, rooted });
    for (const change of this.changes) {
      if (change.op === 'unlink') this.remove(change.parent, change.name);
      else if (change.node.isDir && change.node.value === undefined)
        this.mkdir(change.parent, change.name, change.node);
      else await this.create(change, entry, body, target);
    }
    if (type === 'hardlink') this.relinked(target!);
  }

  /** The bytes of `rel` (a binary string relative to DIR) as an absolute path. */
  private abs(rel: string): Buffer {
    return rel === '' ? this.dirBytes : Buffer.concat([this.dirBytes, Buffer.from(`/${rel}`, 'latin1')]);
  }

  /** Where `name` in `parent` goes; `parent` must be a directory this writer made and the tree holds. */
  private place(parent: Node, name: string): string {
    const at = this.paths.get(parent);
    if (at === undefined || !this.made.has(parent)) {
      throw new Error(`rootfs writer: the parent of "${displayPath(name)}" is not a directory it made`);
    }
    return at === '' ? name : `${at}/${name}`;
  }

  private remove(parent: Node, name: string): void {
    // rm never follows a symlink: it removes the link, or the tree below a real directory.
    fs.rmSync(this.abs(this.place(parent, name)), { recursive: true, force: true });
  }

  private mkdir(parent: Node, name: string, node: Node): void {
    const rel = this.place(parent, name);
    fs.mkdirSync(this.abs(rel), 0o700); // EEXIST on anything there, a symlink included
    this.paths.set(node, rel);
    this.made.add(node);
    this.stats.dirs++;
  }

  private async create(
    change: Extract<Change, { op: 'link' }>,
    entry: RootfsEntry,
    body: (() => AsyncIterable<Buffer>) | undefined,
    target: string | undefined,
  ): Promise<void> {
    const { parent, name, node } = change;
    const inode = node.value!;
    if (node.isDir) return this.mkdir(parent, name, node);
    const rel = this.place(parent, name);
    switch (entry.type) {
      case 'file':
        return this.writeFile(rel, inode, entry, body);
      case 'symlink':
        fs.symlinkSync(Buffer.from(entry.linkname, 'latin1'), this.abs(rel));
        inode.made = true;
        this.stats.symlinks++;
        return this.setMeta(rel, inode);
      case 'hardlink':
        return this.link(rel, inode, target!);
      case 'fifo':
      case 'chardev':
      case 'blockdev':
        return this.makeNode(rel, inode, entry);
      default:
        throw new Error(`rootfs writer: unexpected entry type ${entry.type}`);
    }
  }

  private async writeFile(
    rel: string,
    inode: Inode,
    entry: RootfsEntry,
    body: (() => AsyncIterable<Buffer>) | undefined,
  ): Promise<void> {
    const fd = fs.openSync(this.abs(rel), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      inode.made = true;
      this.stats.files++;
      if (entry.sparse && body) {
        for await (const { at, data } of sparseWrites(body(), entry.sparse)) this.stats.bytes += writeAll(fd, data, at);
        fs.ftruncateSync(fd, entry.sparse.realSize);
      } else if (body && entry.size > 0) {
        for await (const chunk of body()) this.stats.bytes += writeAll(fd, chunk);
      }
      const owner = this.ownerOf(rel, inode.meta);
      if (owner) fs.fchownSync(fd, owner.uid, owner.gid); // before the mode: chown clears setuid
      fs.fchmodSync(fd, inode.meta.mode);
      fs.futimesSync(fd, inode.meta.mtime, inode.meta.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** A second name of a file: linked to the name the tree resolved the target to. */
  private link(rel: string, inode: Inode, target: string): void {
    if (this.tree.lookup(target)?.value !== inode) {
      throw new Error(`rootfs writer: hardlink "${displayPath(rel)}" resolved to another file than its target`);
    }
    if (!inode.made) {
      this.stats.devicesSkipped++; // a name of a device node that could not be made
      return;
    }
    fs.linkSync(this.abs(target), this.abs(rel)); // link(2) never follows the target if it is a symlink
    this.stats.hardlinks++;
  }

  /** A hardlink's header set the file's metadata (engines): give it to the file on disk. */
  private relinked(target: string): void {
    const inode = this.tree.lookup(target)?.value;
    if (inode?.made) this.setMeta(target, inode);
  }

  /** A fifo or device node: mknod(1) under a plain name in DIR, then linked to its real name. */
  private async makeNode(rel: string, inode: Inode, entry: RootfsEntry): Promise<void> {
    const device = entry.type !== 'fifo';
    if (device && (this.devicesRefused || !this.options.ownership.privileged)) {
      this.stats.devicesSkipped++;
      return;
    }
    this.mknodProgram ??= requireMknod();
    let tmp: string;
    do tmp = `.layerflat-mknod-${process.pid}-${this.nodeSeq++}`;
    while (this.tree.root.children!.has(tmp) || exists(this.abs(tmp)));
    const kind =
      entry.type === 'fifo'
        ? ({ kind: 'fifo' } as const)
        : { kind: entry.type as 'chardev' | 'blockdev', major: entry.devmajor, minor: entry.devminor };
    if ((await mknod(this.mknodProgram, this.dir, tmp, kind)) === 'not-permitted') {
      if (!device) throw new LayerflatError('IO', `mknod refused to make a fifo in ${this.dir}`);
      this.devicesRefused = true;
      this.stats.devicesSkipped++;
      return;
    }
    try {
      fs.linkSync(this.abs(tmp), this.abs(rel)); // no-clobber, unlike rename
    } finally {
      fs.unlinkSync(this.abs(tmp));
    }
    inode.made = true;
    if (device) this.stats.devices++;
    else this.stats.fifos++;
    this.setMeta(rel, inode);
  }

  /** Owner, mode (not of a symlink) and times of a path that is not a directory, by name (never following it). */
  private setMeta(rel: string, inode: Inode): void {
    const p = this.abs(rel);
    const owner = this.ownerOf(rel, inode.meta);
    if (owner) fs.lchownSync(p, owner.uid, owner.gid);
    // chmod follows a symlink, so never on one; anything else here is what this writer made.
    if (inode.type !== 'symlink' && !fs.lstatSync(p).isSymbolicLink()) fs.chmodSync(p, inode.meta.mode);
    fs.lutimesSync(p, inode.meta.mtime, inode.meta.mtime);
  }

  /** The owner to give a path, or undefined (--no-chown); CANNOT_CHOWN for an id the user namespace lacks. */
  private ownerOf(rel: string, meta: { uid: number; gid: number }): { uid: number; gid: number } | undefined {
    const own = this.options.ownership;
    if (!own.chown) return undefined;
    if (!mapsId(own.uids, meta.uid) || !mapsId(own.gids, meta.gid)) {
      throw new LayerflatError(
        'CANNOT_CHOWN',
        `"${displayPath(rel)}" belongs to ${meta.uid}:${meta.gid}, which this user namespace has no id for ` +
          `(uids ${describeMap(own.uids)}; gids ${describeMap(own.gids)}); podman refuses such an image ` +
          'too: give your user a larger range in /etc/subuid and /etc/subgid (then podman system migrate), ' +
          'or pass --no-chown',
      );
    }
    return meta;
  }

  private needSetfattr(): string {
    this.setfattr ??= findSetfattr();
    if (this.setfattr === undefined) throw setfattrMissing();
    return this.setfattr;
  }

  /** Extended attributes, then directories' metadata, deepest first. Call once, after the last entry. */
  async finish(): Promise<RootfsStats> {
    const dirs: [string, Node][] = [];
    const firstName = new Map<Inode, string>();
    for (const [rel, node] of this.tree.walk()) {
      if (node.isDir) dirs.push([rel, node]);
      if (node.value && !firstName.has(node.value)) firstName.set(node.value, rel);
    }
    try {
      await this.setXattrs(firstName);
      for (let i = dirs.length - 1; i >= 0; i--) this.finishDir(dirs[i]![0], dirs[i]![1]);
    } catch (err) {
      throw withContext(err, `finishing ${this.dir}`);
    }
    return this.stats;
  }

  /**
   * Every file's xattrs in one `setfattr --restore` run. Skipped, and counted: all of them with
   * --no-xattrs; user.* on what is neither a file nor a directory (the kernel allows them nowhere
   * else); trusted.* unless root of the initial namespace (rootless podman drops them too);
   * security.* unless root (of a user namespace, where the kernel stores capabilities as v3).
   */
  private async setXattrs(firstName: ReadonlyMap<Inode, string>): Promise<void> {
    const records: string[] = [];
    const given: [string, Inode][] = [];
    for (const [inode, rel] of firstName) {
      // (a directory's value is its last entry's, the directory itself made by whichever came first)
      if (inode.meta.xattrs.size === 0 || (!inode.made && inode.type !== 'dir')) continue;
      const keep = [...inode.meta.xattrs].filter(([name]) => {
        const why = this.unsettable(name, inode.type);
        if (why !== undefined) this.xattrSkips.set(why, (this.xattrSkips.get(why) ?? 0) + 1);
        return why === undefined;
      });
      this.stats.xattrsSkipped += inode.meta.xattrs.size - keep.length;
      if (keep.length === 0) continue;
      records.push(dumpRecord(rel, keep));
      given.push([rel, inode]);
      this.stats.xattrs += keep.length;
    }
    if (records.length === 0) return;
    const unprivileged = !this.options.ownership.chown;
    // user.* needs write permission on the file: a file of yours that its mode makes read-only gets u+w for a moment.
    for (const [rel, inode] of given) {
      if (unprivileged && isPlain(inode.type) && (inode.meta.mode & 0o200) === 0) {
        fs.chmodSync(this.abs(rel), inode.meta.mode | 0o600);
      }
    }
    await restoreXattrs(this.needSetfattr(), this.dir, records);
    // An ACL (system.posix_acl_access) rewrites the group bits: the header's mode is set after it, as docker does.
    for (const [rel, inode] of given) if (isPlain(inode.type)) fs.chmodSync(this.abs(rel), inode.meta.mode);
  }

  /** Why an attribute cannot be set here, or undefined when it can. */
  private unsettable(name: string, type: EntryType): string | undefined {
    const own = this.options.ownership;
    if (!this.options.xattrs) return '--no-xattrs';
    if (name.startsWith('user.') && type !== 'file' && type !== 'dir')
      return 'user.* exist on files and directories only';
    if (name.startsWith('trusted.') && !own.privileged) return 'trusted.* need root outside a user namespace';
    if (name.startsWith('security.') && !own.root) return 'security.* (file capabilities) need root or podman unshare';
    return undefined;
  }

  /** A directory's owner, mode and mtime, through a descriptor (O_NOFOLLOW: never a symlink's target). */
  private finishDir(rel: string, node: Node): void {
    const inode = node.value;
    if (rel === '' && !inode) return; // DIR itself, when the image says nothing of "/"
    // A directory made as a parent is what podman makes: 0755, root's (its mtime stays the load's).
    const meta = inode?.meta ?? { mode: 0o755, uid: 0, gid: 0, mtime: undefined };
    const fd = fs.openSync(this.abs(rel), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      const owner = this.ownerOf(rel, meta);
      if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
      fs.fchmodSync(fd, meta.mode);
      if (meta.mtime !== undefined) fs.futimesSync(fd, meta.mtime, meta.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** A file, fifo or device: chmod applies to it (not to a directory here, nor a symlink). */
function isPlain(type: EntryType): boolean {
  return type !== 'dir' && type !== 'symlink';
}

function exists(p: Buffer): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Write all of `data` at `position` (or the current offset); returns its length. */
function writeAll(fd: number, data: Buffer, position?: number): number {
  let done = 0;
  while (done < data.length) {
    done += fs.writeSync(fd, data, done, data.length - done, position === undefined ? null : position + done);
  }
  return data.length;
}
