/**
 * A tar entry as the reader yields it: the fields the merge needs, parsed, plus the raw header
 * blocks so that a kept entry is copied without re-encoding (re-encoding is how node-tar and
 * tar-stream lose binary xattrs such as security.capability).
 */

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo' | 'other';

/** One pax record exactly as stored: key, value bytes (never decoded), and the record bytes. */
export interface PaxRecord {
  key: string;
  value: Buffer;
}

export interface TarEntry {
  /**
   * The path, normalised (no leading "./", no trailing "/"), as a byte-exact "binary" string:
   * each char is one byte of the stored name (latin1), so non-UTF-8 names round-trip and compare
   * exactly. Use `displayPath()` to show it. The root directory itself is "" (".").
   */
  path: string;
  /** The stored name was absolute ("/etc/x"): re-rooted in `path`, but engines still tell it apart from "etc/x". */
  rooted: boolean;
  type: EntryType;
  /** The raw typeflag character of the main header ('0', '5', 'S', ...). */
  typeflag: string;
  mode: number; // permission and setuid/setgid/sticky bits (07777)
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Seconds since the epoch; pax mtime may carry a fraction. */
  mtime: number;
  /** Logical file size (for sparse files the real size, not the stored bytes). */
  size: number;
  /** Hardlink target (normalised like `path`) or symlink target (as stored), binary string. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Per-entry pax records ('x' headers) in stored order; global ('g') ones are not applied. */
  pax: PaxRecord[];
  /** Extended attributes from SCHILY.xattr.* / LIBARCHIVE.xattr.*, values as raw bytes. */
  xattrs: Map<string, Buffer>;
  /** Every header block of this entry, verbatim: pax/GNU extension headers, main header, sparse blocks. */
  header: Buffer;
  /** Number of data bytes stored after the header (before padding to 512). */
  dataSize: number;
  /** Byte offset of the first header block in the (decompressed) tar stream. */
  offset: number;
  /** Set for sparse files (old GNU 'S' or pax GNU.sparse.*): `size` is the real size, `dataSize` the stored bytes. */
  sparse?: SparseInfo;
}

/**
 * How a sparse file is stored. `map` lists the stored regions when the header carries it
 * (old GNU and pax 0.0/0.1); for pax 1.0 the map sits at the start of the data and is not parsed.
 */
export interface SparseInfo {
  format: 'gnu-old' | 'pax-0.0' | 'pax-0.1' | 'pax-1.0';
  realSize: number;
  map?: Array<{ offset: number; length: number }>;
}

/** Turn a binary (latin1) path into something printable, decoding UTF-8 where it is valid. */
export function displayPath(binary: string): string {
  const bytes = Buffer.from(binary, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : JSON.stringify(binary).slice(1, -1);
}
