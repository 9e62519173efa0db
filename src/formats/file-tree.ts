/**
 * A read-only view of the named files of an image store — a directory (OCI layout) or a tar file
 * (docker-archive, oci-archive) indexed by its headers — so the readers above it never care which.
 * A tar member is read where it lies, with positioned reads of its exact byte range; nothing is
 * extracted. Names are "/"-separated, relative, UTF-8; "..", absolute names and links that leave
 * the tree resolve to nothing, so a hostile manifest cannot reach outside the archive.
 */
import fs from 'node:fs';
import path from 'node:path';
import { rangeChunks } from '../bytes/file-range.js';
import { LayerflatError, asLayerflatError } from '../errors.js';
import { parseJSONBytes } from '../image/manifest.js';
import type { FileRange } from '../image/types.js';
import { listTarFile } from '../tar/list-file.js';
import type { TarEntry } from '../tar/entry.js';

/** The files of a directory or tar archive, by relative name. */
export interface FileTree {
  /** The directory or archive path, for messages. */
  readonly where: string;
  /** Whether `name` is a regular file (following links inside the tree). */
  has(name: string): boolean;
  /** The size of file `name`; NOT_FOUND if absent. */
  size(name: string): number;
  /** The whole content of a small file (at most 64 MiB, BAD_MANIFEST beyond); NOT_FOUND if absent. */
  read(name: string): Promise<Buffer>;
  /** Parse file `name` as JSON; BAD_MANIFEST naming `where` (default: the file) if it is not. */
  readJSON(name: string, where?: string): Promise<unknown>;
  /** Where the bytes of file `name` lie on disk; NOT_FOUND if absent. */
  locate(name: string): FileRange;
}

/** Largest document we load into memory; real manifests and configs are kilobytes. */
const MAX_DOCUMENT = 64 * 1024 * 1024;

/** Normalise a relative name; undefined if it is absolute or climbs out with "..". */
function cleanName(name: string): string | undefined {
  if (name.startsWith('/')) return undefined;
  const n = path.posix.normalize(name);
  if (n === '..' || n.startsWith('../') || n === '.') return undefined;
  return n.replace(/\/+$/, '');
}

/** Where a located file's bytes are: a path plus an optional byte range. */
interface Located {
  file: string;
  start: number;
  size: number;
}

/** Read a located document whole (at most MAX_DOCUMENT bytes). */
type DocumentReader = (at: Located, label: string) => Promise<Buffer>;

function tooLarge(label: string, size: number): LayerflatError {
  return new LayerflatError('BAD_MANIFEST', `${label}: ${size} bytes, too large for a document`, { located: true });
}

/** A member of a tar file: the exact byte range its header gives. */
async function readRange(at: Located, label: string): Promise<Buffer> {
  if (at.size > MAX_DOCUMENT) throw tooLarge(label, at.size);
  const chunks: Buffer[] = [];
  for await (const chunk of rangeChunks({ path: at.file, start: at.start, size: at.size })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * A file of a directory: with one open, whatever its size is now — a layout's index.json is
 * replaced (renamed over) by writers while readers read it, and a size taken by an earlier stat
 * would cut the new one short or mix two versions.
 */
async function readWholeFile(at: Located, label: string): Promise<Buffer> {
  const fh = await fs.promises.open(at.file, 'r').catch((err: unknown) => {
    throw asLayerflatError(err, label);
  });
  try {
    const { size } = await fh.stat();
    if (size > MAX_DOCUMENT) throw tooLarge(label, size);
    return await fh.readFile();
  } catch (err) {
    throw err instanceof LayerflatError ? err : asLayerflatError(err, label);
  } finally {
    await fh.close();
  }
}

function treeFrom(
  where: string,
  locate: (name: string) => Located | undefined,
  readDocument: DocumentReader = readRange,
): FileTree {
  const must = (name: string): Located => {
    const loc = locate(name);
    if (!loc) throw new LayerflatError('NOT_FOUND', `${where}: ${name} is missing`, { located: true });
    return loc;
  };
  const range = (name: string): FileRange => {
    const { file, start, size } = must(name);
    return { path: file, start, size };
  };
  const read = (name: string, label = `${where}: ${name}`): Promise<Buffer> => readDocument(must(name), label);
  return {
    where,
    has: (name) => locate(name) !== undefined,
    locate: range,
    size: (name) => must(name).size,
    read: (name) => read(name),
    async readJSON(name, label = `${where}: ${name}`) {
      return parseJSONBytes(await read(name, label), label);
    },
  };
}

/** A tree over a directory on disk (an OCI layout). */
export function directoryTree(dir: string): FileTree {
  return treeFrom(
    dir,
    (name) => {
      const clean = cleanName(name);
      if (clean === undefined) return undefined;
      const file = path.join(dir, clean);
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw asLayerflatError(err, file); // EACCES and the like: say so, do not call it missing
      }
      return st.isFile() ? { file, start: 0, size: st.size } : undefined;
    },
    readWholeFile,
  );
}

/** Follow symlinks and hardlinks inside the archive (docker save links repeated layers). */
function resolveEntry(byPath: Map<string, TarEntry>, name: string): TarEntry | undefined {
  let current = name;
  for (let hops = 0; hops < 16; hops++) {
    const e = byPath.get(current);
    if (!e || e.type === 'file') return e;
    if (e.type !== 'symlink' && e.type !== 'hardlink') return undefined;
    const target =
      e.type === 'symlink' && !e.linkname.startsWith('/')
        ? path.posix.join(path.posix.dirname(e.path), e.linkname)
        : e.linkname.replace(/^\/+/, '');
    const next = cleanName(target);
    if (next === undefined) return undefined;
    current = next;
  }
  return undefined;
}

/** Index a tar file by its headers and return a tree over its members; `label` names it in messages. */
export async function tarFileTree(file: string, label = file): Promise<FileTree> {
  let entries: TarEntry[];
  try {
    entries = await listTarFile(file, { where: label });
  } catch (err) {
    throw asLayerflatError(err, label);
  }
  const byPath = new Map<string, TarEntry>();
  for (const e of entries) byPath.set(e.path, e); // later members win, as on extraction
  return treeFrom(label, (name) => {
    const clean = cleanName(name);
    if (clean === undefined) return undefined;
    const e = resolveEntry(byPath, Buffer.from(clean, 'utf8').toString('latin1'));
    return e ? { file, start: e.offset + e.header.length, size: e.dataSize } : undefined;
  });
}
