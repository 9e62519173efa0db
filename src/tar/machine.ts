/**
 * The header-state machine shared by the stream reader and the file indexer: fed the bytes it asks
 * for (header blocks, extension data, sparse blocks) it assembles one TarEntry with its raw header
 * bytes. The drivers only move bytes: readTar over a stream, listTarFile over positioned reads.
 */
import type { PaxRecord, TarEntry } from './entry.js';
import { locate, tarError, TarProblem } from './fail.js';
import {
  BLOCK_SIZE,
  checksumMatches,
  checksumOf,
  isZeroBlock,
  padLength,
  parseHeader,
  parseSparseExtension,
} from './header.js';
import type { ParsedHeader, SparseChunk } from './header.js';
import { parseString } from './numeric.js';
import { parsePaxRecords } from './pax.js';
import { buildEntry } from './assemble.js';

/** Largest pax / GNU long-name data we accept, and largest total of header bytes for one entry. */
const MAX_EXTENSION_SIZE = 8 << 20;
const MAX_HEADER_BYTES = 16 << 20;

type Pending = 'header' | 'pax' | 'global' | 'longname' | 'longlink' | 'sparse' | 'second-zero';

/** What feeding produced: more bytes needed, a complete entry, or the end-of-archive block. */
export type MachineStep = 'more' | 'end' | TarEntry;

export class HeaderMachine {
  /** How many bytes the driver must feed next, in one buffer it will not reuse. */
  need = BLOCK_SIZE;
  /** Stream offset of the next bytes to feed; after an entry, just past its data and padding. */
  pos = 0;
  private start = 0;
  private pending: Pending = 'header';
  private extSize = 0;
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** Where pax data sits in the entry's header bytes, parsed once they are joined (values then point into `header`). */
  private paxSpans: Array<{ from: number; to: number }> = [];
  private longName: string | undefined;
  private longLink: string | undefined;
  private main: ParsedHeader | undefined;
  private sparseMap: SparseChunk[] = [];

  constructor(readonly where?: string) {}

  /** Feed exactly `need` bytes (a buffer the machine may keep). */
  feed(bytes: Buffer): MachineStep {
    const at = this.pos;
    this.pos += bytes.length;
    try {
      return this.step(bytes, at);
    } catch (err) {
      throw locate(err, this.where, (err as TarProblem).code === 'BAD_PATH' ? this.start : at);
    }
  }

  /** The input ended with only `got` of the `need` bytes (`head` = what came). Returns if that is a clean end. */
  atEof(got: number, head: Buffer): void {
    if (got === 0 && this.pending === 'header' && this.pieces.length === 0) return;
    if (got === 0 && this.pending === 'second-zero') return; // one zero block, then the end: an end
    if (this.pos === 0 && !(head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar')) {
      const what = `not a tar archive (${got} bytes, shorter than one header)${sniff(head)}`;
      throw tarError('NOT_A_TAR', this.where, 0, what);
    }
    const inside = this.pending === 'header' ? 'a header block' : `${this.pending} header data`;
    throw tarError('TRUNCATED', this.where, this.pos + got, `tar archive ends inside ${inside}`);
  }

  /** Error for an entry whose data (or padding) the input does not hold in full. */
  truncatedData(entry: TarEntry, at: number): Error {
    const name = JSON.stringify(entry.path);
    return tarError('TRUNCATED', this.where, at, `tar archive ends inside the data of ${name}`);
  }

  private step(bytes: Buffer, at: number): MachineStep {
    const data = bytes.subarray(0, this.extSize);
    switch (this.pending) {
      case 'header':
        return this.onHeader(bytes, at);
      case 'second-zero':
        // Go's archive/tar, which the engines use, ends only at two zero blocks; a lone one
        // followed by more entries is an invalid header there, and the rest is not dropped silently.
        if (isZeroBlock(bytes)) return 'end';
        throw new TarProblem('BAD_TAR', 'a lone zero block followed by more data (engines refuse such a layer)');
      case 'sparse':
        return this.onSparseBlock(bytes);
      case 'pax':
        parsePaxRecords(data); // validate now, so the error names this block; parsed again in finish()
        this.paxSpans.push({ from: this.pieceBytes, to: this.pieceBytes + this.extSize });
        break;
      case 'longname':
        this.longName = parseString(data, 0, data.length);
        break;
      case 'longlink':
        this.longLink = parseString(data, 0, data.length);
        break;
      case 'global':
        break; // Docker's archive/tar ignores global headers; so do we
    }
    if (this.pending !== 'global' || this.pieces.length) this.keep(bytes);
    this.pending = 'header';
    this.need = BLOCK_SIZE;
    return 'more';
  }

  private onHeader(block: Buffer, at: number): MachineStep {
    if (this.pieces.length === 0) this.start = at;
    if (isZeroBlock(block)) {
      if (this.pieces.length) throw new TarProblem('BAD_TAR', 'end-of-archive block right after an extension header');
      return this.expect('second-zero', BLOCK_SIZE);
    }
    if (!checksumMatches(block)) {
      if (at === 0 && block.toString('latin1', 257, 262) !== 'ustar') {
        throw new TarProblem('NOT_A_TAR', `not a tar archive (no valid header at the start)${sniff(block)}`);
      }
      const stored = JSON.stringify(block.toString('latin1', 148, 156));
      const computed = checksumOf(block).toString(8);
      throw new TarProblem('BAD_CHECKSUM', `tar header checksum mismatch (stored ${stored}, computed ${computed})`);
    }
    const h = parseHeader(block)!;
    const ext = EXTENSIONS[h.typeflag];
    if (ext) return this.extension(block, h, ext);
    this.keep(block);
    this.main = h;
    if (h.gnuSparse) {
      this.sparseMap = h.gnuSparse.map;
      if (h.gnuSparse.isExtended) return this.expect('sparse', BLOCK_SIZE);
    }
    return this.finish();
  }

  private extension(block: Buffer, h: ParsedHeader, kind: Pending): MachineStep {
    if (h.size > MAX_EXTENSION_SIZE) {
      const what = `${kind} extension header of ${h.size} bytes exceeds the ${MAX_EXTENSION_SIZE} byte limit`;
      throw new TarProblem('BAD_TAR', what);
    }
    if (kind !== 'global' || this.pieces.length) this.keep(block);
    this.extSize = h.size;
    this.expect(kind, h.size + padLength(h.size));
    return this.need === 0 ? this.step(Buffer.alloc(0), this.pos) : 'more';
  }

  private onSparseBlock(block: Buffer): MachineStep {
    this.keep(block);
    const { map, isExtended } = parseSparseExtension(block);
    this.sparseMap = this.sparseMap.concat(map);
    return isExtended ? this.expect('sparse', BLOCK_SIZE) : this.finish();
  }

  private expect(kind: Pending, n: number): 'more' {
    this.pending = kind;
    this.need = n;
    return 'more';
  }

  private keep(bytes: Buffer): void {
    this.pieces.push(bytes);
    this.pieceBytes += bytes.length;
    if (this.pieceBytes > MAX_HEADER_BYTES) {
      throw new TarProblem('BAD_TAR', 'more than 16 MiB of header blocks for one entry');
    }
  }

  private finish(): TarEntry {
    const header = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.pieceBytes);
    const pax: PaxRecord[] = [];
    for (const { from, to } of this.paxSpans) for (const r of parsePaxRecords(header.subarray(from, to))) pax.push(r);
    const entry = buildEntry(this.main!, {
      header,
      offset: this.start,
      pax,
      longName: this.longName,
      longLink: this.longLink,
      sparseMap: this.sparseMap,
    });
    this.pos = this.start + header.length + entry.dataSize + padLength(entry.dataSize);
    this.pieces = [];
    this.pieceBytes = 0;
    this.paxSpans = [];
    this.longName = this.longLink = this.main = undefined;
    this.sparseMap = [];
    this.pending = 'header';
    this.need = BLOCK_SIZE;
    return entry;
  }
}

const EXTENSIONS: Record<string, Pending | undefined> = {
  x: 'pax',
  X: 'pax', // Solaris
  g: 'global',
  L: 'longname',
  K: 'longlink',
};

/** A hint about what the bytes are instead, for the NOT_A_TAR message. */
function sniff(b: Buffer): string {
  if (b[0] === 0x1f && b[1] === 0x8b) return '; it looks like gzip data';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return '; it looks like zstd data';
  if (b.toString('latin1', 0, 3) === 'BZh') return '; it looks like bzip2 data';
  if (b.toString('latin1', 0, 6) === '\xfd7zXZ\0') return '; it looks like xz data';
  const t = b.toString('latin1', 0, 1);
  if (t === '{' || t === '[') return '; it looks like JSON';
  return '';
}
