/**
 * Turn a parsed main header plus its extension headers (pax records, GNU long name/link, sparse
 * map) into a TarEntry: precedence GNU.sparse.name > pax path > GNU long name > header name,
 * type mapping, sizes, xattrs and path checks.
 */
import type { EntryType, PaxRecord, SparseInfo, TarEntry } from './entry.js';
import { HEADER_ONLY_TYPES } from './blocks.js';
import { TarProblem } from './fail.js';
import type { ParsedHeader, SparseChunk } from './header.js';
import { libarchiveXattrName, paxInteger, paxTime } from './pax.js';
import { isRooted, normalizePath } from './path.js';

export interface Extensions {
  header: Buffer;
  offset: number;
  pax: PaxRecord[];
  longName: string | undefined;
  longLink: string | undefined;
  sparseMap: SparseChunk[];
}

const TYPES: Record<string, EntryType | undefined> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  S: 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chardev',
  '4': 'blockdev',
  '5': 'dir',
  '6': 'fifo',
};

export function buildEntry(h: ParsedHeader, ext: Extensions): TarEntry {
  const e: TarEntry = {
    path: ext.longName ?? h.name,
    rooted: false,
    type: TYPES[h.typeflag] ?? 'other',
    typeflag: h.typeflag,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    uname: h.uname,
    gname: h.gname,
    mtime: h.mtime,
    size: h.size,
    linkname: ext.longLink ?? h.linkname,
    devmajor: h.devmajor,
    devminor: h.devminor,
    pax: ext.pax,
    xattrs: new Map(),
    header: ext.header,
    dataSize: h.size,
    offset: ext.offset,
  };
  const sparse = ext.pax.length ? applyPax(e, ext.pax) : undefined;
  if (HEADER_ONLY_TYPES.has(e.type)) e.dataSize = 0;
  // v7 directory: a regular-file typeflag and a trailing slash (its stored size, normally 0, stands)
  if ((h.typeflag === '0' || h.typeflag === '\0') && e.path.endsWith('/')) e.type = 'dir';
  e.size = e.dataSize;
  if (h.gnuSparse) {
    e.sparse = { format: 'gnu-old', realSize: h.gnuSparse.realSize, map: ext.sparseMap };
  } else if (sparse) {
    e.sparse = sparse;
  }
  if (e.sparse) e.size = e.sparse.realSize;
  e.rooted = isRooted(e.path);
  e.path = normalizePath(e.path);
  if (e.path === '' && e.type !== 'dir' && e.type !== 'other') {
    throw new TarProblem('BAD_PATH', `empty path for a ${e.type}`);
  }
  if (e.type === 'hardlink') {
    e.linkname = normalizePath(e.linkname, 'hardlink target');
    if (e.linkname === '') throw new TarProblem('BAD_PATH', 'hardlink with an empty target');
  }
  return e;
}

/** Apply per-entry pax records to `e`; returns the pax sparse description if there is one. */
function applyPax(e: TarEntry, records: PaxRecord[]): SparseInfo | undefined {
  const sp: Record<string, string> = {};
  const offsets: number[] = [];
  const lengths: number[] = [];
  for (const r of records) {
    const k = r.key;
    if (k.startsWith('SCHILY.xattr.')) {
      e.xattrs.set(k.slice(13), r.value);
      continue;
    }
    if (k.startsWith('LIBARCHIVE.xattr.')) {
      e.xattrs.set(libarchiveXattrName(k.slice(17)), Buffer.from(r.value.toString('latin1'), 'base64'));
      continue;
    }
    if (r.value.length === 0) continue; // an empty value un-sets the field: the header value stands
    switch (k) {
      case 'path':
        e.path = r.value.toString('latin1');
        break;
      case 'linkpath':
        e.linkname = r.value.toString('latin1');
        break;
      case 'size':
        e.dataSize = paxInteger(r);
        break;
      case 'uid':
        e.uid = paxInteger(r);
        break;
      case 'gid':
        e.gid = paxInteger(r);
        break;
      case 'mtime':
        e.mtime = paxTime(r);
        break;
      case 'uname':
        e.uname = r.value.toString('latin1');
        break;
      case 'gname':
        e.gname = r.value.toString('latin1');
        break;
      case 'GNU.sparse.offset':
        offsets.push(paxInteger(r));
        break;
      case 'GNU.sparse.numbytes':
        lengths.push(paxInteger(r));
        break;
      default:
        if (k.startsWith('GNU.sparse.')) sp[k.slice(11)] = r.value.toString('latin1');
    }
  }
  if (sp.name !== undefined) e.path = sp.name;
  return paxSparse(sp, offsets, lengths);
}

function paxSparse(sp: Record<string, string>, offsets: number[], lengths: number[]): SparseInfo | undefined {
  const real = sp.size ?? sp.realsize;
  if (real === undefined && sp.major === undefined && sp.map === undefined && offsets.length === 0) return undefined;
  const realSize = real === undefined ? NaN : Number(real);
  if (!/^[0-9]+$/.test(real ?? '') || !Number.isSafeInteger(realSize)) {
    throw new TarProblem('BAD_TAR', `bad GNU.sparse size ${JSON.stringify(real ?? '')}`);
  }
  if (sp.major !== undefined) return { format: 'pax-1.0', realSize };
  if (sp.map !== undefined) {
    const nums = sp.map.split(',').map(Number);
    if (!/^[0-9]+(,[0-9]+)*$/.test(sp.map) || nums.length % 2 || nums.some((n) => !Number.isSafeInteger(n))) {
      throw new TarProblem('BAD_TAR', `bad GNU.sparse.map ${JSON.stringify(sp.map)}`);
    }
    const map = [];
    for (let i = 0; i < nums.length; i += 2) map.push({ offset: nums[i]!, length: nums[i + 1]! });
    return { format: 'pax-0.1', realSize, map };
  }
  if (offsets.length !== lengths.length) {
    throw new TarProblem('BAD_TAR', 'GNU.sparse.offset and numbytes do not pair up');
  }
  return { format: 'pax-0.0', realSize, map: offsets.map((offset, i) => ({ offset, length: lengths[i]! })) };
}
