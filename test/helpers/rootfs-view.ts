/**
 * A directory on disk as the merged view verify compares (FsTree<FileFacts>): every path's type,
 * mode, owner, mtime, size, content hash, symlink target, device numbers and xattrs (read with
 * `getfattr -h -R -P -d -m - -e hex`), hardlinked names sharing one FileFacts (same inode), so
 * compareViews can hold an unpacked rootfs against the engines' model of the image.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { FsTree } from '../../src/engine/fs-tree.js';
import type { EntryType } from '../../src/tar/entry.js';
import type { FileFacts } from '../../src/verify/facts.js';

/** A binary (latin1) path relative to `root` as a Buffer path. */
export function diskPath(root: string, rel: string): Buffer {
  return rel === '' ? Buffer.from(root) : Buffer.concat([Buffer.from(`${root}/`), Buffer.from(rel, 'latin1')]);
}

/** Undo getfattr's octal escapes (\NNN) in a --dump line; the result is a binary string. */
function unquote(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Every path's xattrs under `root` (binary relative path → name → hex). */
export function xattrsUnder(root: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  let text: string;
  try {
    text = execFileSync('getfattr', ['-h', '-R', '-P', '-d', '-m', '-', '-e', 'hex', '.'], {
      cwd: root,
      encoding: 'latin1',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 256 << 20,
    });
  } catch (err) {
    // getfattr exits 1 when some path has none it may read; what it printed still stands
    text = ((err as { stdout?: string }).stdout ?? '').toString();
  }
  let current: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      const p = unquote(line.slice(8)).replace(/^\.\/?/, '');
      current = {};
      out.set(p, current);
    } else if (current && line.includes('=')) {
      const eq = line.indexOf('=');
      current[unquote(line.slice(0, eq))] = line.slice(eq + 1).replace(/^0x/, '');
    }
  }
  return out;
}

function typeOf(st: fs.BigIntStats): EntryType {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

function device(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** The view of the directory `root` (binary paths, as tar entries have them). */
export function viewOfDir(root: string): FsTree<FileFacts> {
  const xattrs = xattrsUnder(root);
  const tree = new FsTree<FileFacts>();
  tree.startLayer(0);
  const inodes = new Map<string, string>(); // dev:ino → first path
  const stack: string[] = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const p = diskPath(root, rel);
    const st = fs.lstatSync(p, { bigint: true });
    const type = typeOf(st);
    if (rel !== '') {
      const key = `${st.dev}:${st.ino}`;
      const first = inodes.get(key);
      if (first !== undefined && type !== 'dir') {
        tree.apply({ path: rel, type: 'hardlink', linkname: first, value: undefined as never });
        continue;
      }
      inodes.set(key, rel);
      const facts: FileFacts = {
        type,
        mode: type === 'symlink' ? 0o777 : Number(st.mode) & 0o7777,
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime: Number(st.mtimeMs / 1000n),
        size: type === 'file' ? Number(st.size) : 0,
        xattrs: Object.fromEntries(Object.entries(xattrs.get(rel) ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))),
      };
      if (type === 'file') facts.sha256 = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      if (type === 'symlink') facts.linkname = fs.readlinkSync(p, { encoding: 'buffer' }).toString('latin1');
      if (type === 'chardev' || type === 'blockdev') facts.device = device(st.rdev);
      tree.apply({ path: rel, type, linkname: facts.linkname ?? '', value: facts });
    }
    if (type === 'dir') {
      for (const name of fs.readdirSync(p, { encoding: 'buffer' })) {
        const n = name.toString('latin1');
        stack.push(rel === '' ? n : `${rel}/${n}`);
      }
    }
  }
  return tree;
}
