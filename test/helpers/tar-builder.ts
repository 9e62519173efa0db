/**
 * Build small tar archives in code from entry specs, with layerflat's own writer, and read them back.
 *
 *   const tar = buildTar([
 *     { path: 'etc/', type: 'dir' },
 *     { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
 *     { path: 'etc/.wh.shadow' },                                  // a whiteout is just an empty file
 *     { path: 'bin/ping', content: '…', xattrs: { 'security.capability': capBytes } },
 *     { path: 'bin/sh2', type: 'hardlink', linkname: 'bin/sh' },
 *   ]);
 *   const entries = await collectTar(tar);                          // [{ entry, data }]
 *
 * Paths, link names, unames and xattr names are binary strings (one char per byte), as in TarEntry:
 * wrap non-ASCII text with `utf8('héllo')`.
 */
import type { EntryType, PaxRecord, TarEntry } from '../../src/tar/entry.js';
import { readTar } from '../../src/tar/reader.js';
import { buildHeader, END_OF_ARCHIVE, paddingFor } from '../../src/tar/writer.js';
import { setChecksum, storedName } from '../../src/tar/blocks.js';

export interface EntrySpec {
  /** Binary string; a trailing "/" makes the default type 'dir'. */
  path: string;
  /** Default: 'dir' if the path ends with "/", 'hardlink' / 'symlink' never implied, else 'file'. */
  type?: EntryType;
  /** Default 0o755 for dirs, 0o777 for symlinks, 0o644 otherwise. */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Default 1700000000 (fixed, so archives are reproducible). */
  mtime?: number;
  /** File data; a string is stored as UTF-8. */
  content?: Buffer | string;
  linkname?: string;
  /** Extended attributes, stored as SCHILY.xattr.NAME pax records with the exact bytes. */
  xattrs?: Record<string, Buffer | string>;
  /** Extra raw pax records, written verbatim. */
  pax?: PaxRecord[];
  devmajor?: number;
  devminor?: number;
  /** 'pax' (default): ustar, pax only when needed. 'ustar': throw if pax would be needed. 'gnu': GNU L/K long names. */
  format?: 'ustar' | 'pax' | 'gnu';
}

const DEFAULT_MTIME = 1_700_000_000;

/** Recompute the checksum of the 512-byte header block at the start of `block` (after patching it in a test). */
export function fixChecksum(block: Buffer): void {
  setChecksum(block);
}

/** A JS string as the binary string of its UTF-8 bytes (the form TarEntry paths take). */
export function utf8(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** One entry: header blocks + data + padding. */
export function buildEntry(spec: EntrySpec): Buffer {
  const type = spec.type ?? (spec.path.endsWith('/') ? 'dir' : 'file');
  const data = typeof spec.content === 'string' ? Buffer.from(spec.content, 'utf8') : (spec.content ?? Buffer.alloc(0));
  const fields = {
    path: type === 'dir' ? spec.path.replace(/\/+$/, '') : spec.path,
    type,
    mode: spec.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
    uid: spec.uid ?? 0,
    gid: spec.gid ?? 0,
    uname: spec.uname ?? (spec.uid ? '' : 'root'),
    gname: spec.gname ?? (spec.gid ? '' : 'root'),
    mtime: spec.mtime ?? DEFAULT_MTIME,
    size: data.length,
    linkname: spec.linkname,
    devmajor: spec.devmajor,
    devminor: spec.devminor,
  };
  const pax: PaxRecord[] = Object.entries(spec.xattrs ?? {}).map(([name, value]) => ({
    key: `SCHILY.xattr.${name}`,
    value: typeof value === 'string' ? Buffer.from(value, 'latin1') : value,
  }));
  pax.push(...(spec.pax ?? []));
  const header = spec.format === 'gnu' ? gnuHeader(fields, pax) : buildHeader(fields, pax);
  if (spec.format === 'ustar' && header.length > 512) throw new Error(`${spec.path} does not fit a plain ustar header`);
  return Buffer.concat([header, data, paddingFor(data.length)]);
}

/** A whole archive, ending with the two zero blocks unless `end: false`. */
export function buildTar(specs: EntrySpec[], options: { end?: boolean } = {}): Buffer {
  const parts = specs.map(buildEntry);
  if (options.end !== false) parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** Read an archive (buffer or stream) into entries with their data. */
export async function collectTar(
  input: Buffer | AsyncIterable<Buffer>,
  where?: string,
): Promise<Array<{ entry: TarEntry; data: Buffer }>> {
  const out: Array<{ entry: TarEntry; data: Buffer }> = [];
  const stream = Buffer.isBuffer(input) ? oneChunk(input) : input;
  for await (const item of readTar(stream, { where })) {
    const chunks: Buffer[] = [];
    for await (const c of item.body()) chunks.push(Buffer.from(c));
    out.push({ entry: item.entry, data: Buffer.concat(chunks) });
  }
  return out;
}

/**
 * Entries (and data) with every Buffer turned into a hex string and xattrs into a plain object:
 * fast to compare with toEqual (vitest compares Buffers byte by byte, slowly) and readable in diffs.
 */
export function plain(items: Array<{ entry: TarEntry; data?: Buffer } | TarEntry>): unknown[] {
  return items.map((item) => {
    const { entry, data } = 'entry' in item ? item : { entry: item, data: undefined };
    return {
      ...entry,
      header: entry.header.toString('hex'),
      pax: entry.pax.map((r) => [r.key, r.value.toString('hex')]),
      xattrs: Object.fromEntries([...entry.xattrs].map(([k, v]) => [k, v.toString('hex')])),
      ...(data ? { data: data.toString('hex') } : {}),
    };
  });
}

async function* oneChunk(b: Buffer): AsyncIterable<Buffer> {
  yield b;
}

/** GNU format: 'L'/'K' blocks for long names, GNU magic, no pax (xattrs are not possible). */
function gnuHeader(fields: Parameters<typeof buildHeader>[0], pax: PaxRecord[]): Buffer {
  if (pax.length) throw new Error(`${fields.path}: GNU format cannot carry xattrs or pax records`);
  const name = storedName(fields.path, fields.type);
  const link = fields.linkname ?? '';
  const parts: Buffer[] = [];
  if (name.length > 100) parts.push(longBlock('L', name));
  if (link.length > 100) parts.push(longBlock('K', link));
  const main = buildHeader({ ...fields, path: 'x', linkname: link ? 'x' : '' });
  if (main.length !== 512) throw new Error(`${fields.path}: GNU header needs pax (long or non-ASCII user name?)`);
  main.fill(0, 0, 100).write(name.slice(0, 100), 0, 'latin1'); // GNU tar stores raw bytes, any charset
  main.fill(0, 157, 257).write(link.slice(0, 100), 157, 'latin1');
  main.write('ustar  \0', 257, 'latin1');
  setChecksum(main);
  parts.push(main);
  return Buffer.concat(parts);
}

function longBlock(flag: 'L' | 'K', value: string): Buffer {
  const data = Buffer.from(`${value}\0`, 'latin1');
  const block = Buffer.alloc(512);
  block.write('././@LongLink', 0, 'latin1');
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(flag, 156, 'latin1');
  block.write('ustar  \0', 257, 'latin1');
  setChecksum(block);
  return Buffer.concat([block, data, paddingFor(data.length)]);
}
