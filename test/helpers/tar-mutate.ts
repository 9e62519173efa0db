/**
 * fast-check arbitraries for tar archives: valid ones built with tar-builder.ts, hostile header
 * blocks made by hand (bogus pax records, GNU long names, old GNU sparse headers, huge numbers,
 * lone zero blocks), and mutations of either — flipped bytes, truncations, inserted and removed
 * blocks, spliced headers, header fields overwritten (with the checksum fixed, so the damage
 * reaches past the checksum check).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { paddingFor } from '../../src/tar/writer.js';
import { buildTar, fixChecksum, utf8, type EntrySpec } from './tar-builder.js';

/** `b`, shown in fast-check's reports by size and digest (a replay needs the seed and path, not the bytes). */
export function shown(b: Buffer): Buffer {
  const hash = createHash('sha256').update(b).digest('hex').slice(0, 12);
  Object.defineProperty(b, fc.toStringMethod, { value: () => `<${b.length} bytes sha256:${hash}…>` });
  return b;
}

/** Name components that collide, nest, climb, whiteout, or need pax / GNU long names. */
const COMPONENT = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c', 'etc', 'x y') },
  { weight: 1, arbitrary: fc.constantFrom('.', '..', '.wh.a', '.wh..wh..opq', '.wh.', '') },
  { weight: 1, arbitrary: fc.constantFrom('n'.repeat(99), 'L'.repeat(140), utf8('日本語'), utf8('café')) },
);

/** A path of 1-4 components, sometimes absolute or with a trailing slash. */
const tarPath: fc.Arbitrary<string> = fc
  .tuple(fc.array(COMPONENT, { minLength: 1, maxLength: 4 }), fc.constantFrom('', '', '', '/', './'))
  .map(([parts, lead]) => lead + parts.join('/'));

const CONTENT = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('', 'hello\n', 'x'.repeat(511), 'y'.repeat(512), 'z'.repeat(1500)),
  fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a)),
);

const XATTR = fc.dictionary(
  fc.constantFrom('user.a', 'security.capability', 'trusted.overlay.opaque'),
  fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
  { maxKeys: 2 },
);

/** One entry spec as tar-builder builds it (GNU format only where it can carry the entry). */
export const entrySpec: fc.Arbitrary<EntrySpec> = fc
  .record({
    path: tarPath,
    type: fc.constantFrom('file', 'file', 'dir', 'symlink', 'hardlink', 'chardev', 'fifo'),
    content: CONTENT,
    linkname: tarPath,
    uid: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0o7777777 + 10 })),
    mtime: fc.oneof(fc.constant(1_700_000_000), fc.integer({ min: -1e10, max: 1e11 }), fc.constant(1.5)),
    xattrs: fc.option(XATTR, { nil: undefined }),
    gnu: fc.boolean(),
  })
  .map(({ path, type, content, linkname, uid, mtime, xattrs, gnu }): EntrySpec => {
    const spec: EntrySpec = { path: path === '' ? 'p' : path, type, uid, mtime };
    if (type === 'file') spec.content = content;
    if (type === 'symlink' || type === 'hardlink') spec.linkname = linkname;
    if (xattrs && Object.keys(xattrs).length) spec.xattrs = xattrs;
    else if (gnu && Number.isInteger(mtime) && uid <= 0o7777777) spec.format = 'gnu';
    return spec;
  });

/** A valid archive of 0-6 entries (any names: the reader may still refuse some, e.g. "../x"). */
const validTar: fc.Arbitrary<Buffer> = fc
  .tuple(fc.array(entrySpec, { maxLength: 6 }), fc.boolean())
  .map(([specs, end]) => shown(buildTar(specs, { end: end || specs.length === 0 })));

// ---- hand-made header blocks ----------------------------------------------------------------

/** A bare header block: name, typeflag, size (as a number, or raw field bytes), magic; checksum set. */
function headerBlock(o: {
  name?: string;
  typeflag: string;
  size?: number | Buffer;
  magic?: string;
  linkname?: string;
}): Buffer {
  const b = Buffer.alloc(512);
  b.write(o.name ?? 'x', 0, 100, 'latin1');
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  if (Buffer.isBuffer(o.size)) o.size.copy(b, 124, 0, 12);
  else b.write(`${(o.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('14473327600\0', 136, 'latin1');
  b.write(o.typeflag, 156, 'latin1');
  if (o.linkname) b.write(o.linkname, 157, 100, 'latin1');
  b.write(o.magic ?? 'ustar\x0000', 257, 'latin1');
  fixChecksum(b);
  return b;
}

/** An extension header ('x', 'g', 'X', 'L', 'K') with its data and padding; `sizeLie` shifts the size field. */
function extension(typeflag: string, data: Buffer, sizeLie = 0): Buffer {
  const magic = typeflag === 'L' || typeflag === 'K' ? 'ustar  \0' : 'ustar\x0000';
  const block = headerBlock({ name: '././@LongLink', typeflag, size: Math.max(0, data.length + sizeLie), magic });
  return Buffer.concat([block, data, paddingFor(data.length)]);
}

const PAX_KEYS = [
  'path',
  'linkpath',
  'size',
  'uid',
  'gid',
  'mtime',
  'atime',
  'uname',
  'gname',
  'SCHILY.xattr.user.x',
  'LIBARCHIVE.xattr.user%2Ex',
  'LIBARCHIVE.xattr.%zz',
  'GNU.sparse.size',
  'GNU.sparse.realsize',
  'GNU.sparse.major',
  'GNU.sparse.minor',
  'GNU.sparse.map',
  'GNU.sparse.offset',
  'GNU.sparse.numbytes',
  'GNU.sparse.name',
  'hdrcharset',
  'comment',
];

const PAX_VALUES = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '1',
    '-1',
    '512',
    '99999999999999999999',
    '9007199254740993',
    '8589934592',
    '1.5',
    '-12.25',
    '-9999999999999999999',
    '9999999999999999999.5',
    '1e9',
    'abc',
    '../x',
    '/abs',
    'a/b',
    '..',
    '.',
    '0,1,2',
    '1,2',
    '0,512,1024,0',
    ',',
    '1,',
    '%%%',
    '!!!!',
    'n'.repeat(300),
  ),
  fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a).toString('latin1')),
);

/** One pax record: well formed, with a length that lies, or raw bytes. */
const PAX_RECORD = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...PAX_KEYS), PAX_VALUES).map(([k, v]) => paxLine(k, v, 0)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...PAX_KEYS), PAX_VALUES, fc.integer({ min: -8, max: 8 }))
      .map(([k, v, lie]) => paxLine(k, v, lie)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0 x=y\n',
      '5 x\n',
      '9999 path=x\n',
      '3 =\n',
      ' 6 a=b\n',
      '6 =b\n',
      '\0\0\0',
      '7 a=b\n\0x',
    ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a).toString('latin1')) },
);

/** "LEN key=value\n" with LEN right (plus `lie`), as a binary string. */
function paxLine(key: string, value: string, lie: number): string {
  const rest = ` ${key}=${value}\n`.length;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return `${len + lie}${` ${key}=${value}\n`}`;
}

/** Numbers that do not fit, base-256 ones, negative ones, garbage: raw 12-byte size fields. */
const SIZE_FIELDS = fc.oneof(
  fc.constantFrom(
    Buffer.from('77777777777\0', 'latin1'), // 8 GiB
    Buffer.from('777777777777', 'latin1'), // no terminator
    Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0]), // base-256, 1 MiB
    Buffer.from([0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // > MAX_SAFE_INTEGER
    Buffer.from([0x80, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // MAX_SAFE_INTEGER
    Buffer.alloc(12, 0xff), // base-256 -1
    Buffer.from('  123 \0     ', 'latin1'),
    Buffer.from('12a4\0\0\0\0\0\0\0\0', 'latin1'),
    Buffer.alloc(12, 0x20),
    Buffer.alloc(12, 0),
  ),
  fc.uint8Array({ minLength: 12, maxLength: 12 }).map((a) => Buffer.from(a)),
);

/** An old GNU sparse ('S') header: map slots, the isextended byte, realsize, then extension blocks. */
const OLD_SPARSE = fc
  .record({
    slots: fc.array(fc.tuple(fc.nat({ max: 1 << 20 }), fc.nat({ max: 4096 })), { maxLength: 4 }),
    extended: fc.nat({ max: 3 }),
    realSize: fc.oneof(fc.nat({ max: 1 << 20 }), fc.constant(0o77777777777)),
    stored: fc.nat({ max: 2048 }),
    extSlots: fc.array(fc.tuple(fc.nat({ max: 1 << 20 }), fc.nat({ max: 4096 })), { maxLength: 22 }),
    lastExtended: fc.boolean(),
  })
  .map(({ slots, extended, realSize, stored, extSlots, lastExtended }) => {
    const b = headerBlock({ name: 'sparse', typeflag: 'S', size: stored, magic: 'ustar  \0' });
    slots.forEach(([off, len], i) => {
      b.write(`${off.toString(8).padStart(11, '0')}\0`, 386 + i * 24, 'latin1');
      b.write(`${len.toString(8).padStart(11, '0')}\0`, 398 + i * 24, 'latin1');
    });
    b[482] = extended ? 1 : 0;
    b.write(`${realSize.toString(8).padStart(11, '0')}\0`, 483, 'latin1');
    fixChecksum(b);
    const ext: Buffer[] = [];
    for (let k = 0; k < extended; k++) {
      const e = Buffer.alloc(512);
      extSlots.slice(0, 21).forEach(([off, len], i) => {
        e.write(`${off.toString(8).padStart(11, '0')}\0`, i * 24, 'latin1');
        e.write(`${len.toString(8).padStart(11, '0')}\0`, 12 + i * 24, 'latin1');
      });
      e[504] = k < extended - 1 || lastExtended ? 1 : 0;
      ext.push(e);
    }
    return Buffer.concat([b, ...ext, Buffer.alloc(stored), paddingFor(stored)]);
  });

const TYPEFLAGS = ['0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'X', 'L', 'K', 'S', 'D', 'M', 'N', 'V', '\0', 'A'];

const NAMES = fc.constantFrom(
  '..',
  '../x',
  '/',
  '/abs',
  '.',
  './',
  'a/../..',
  'a/../../b',
  '.wh.',
  'd/.wh.',
  '.wh..wh..opq',
  'a//b',
  'n'.repeat(100),
  '',
);

/** Hand-made header blocks (each followed by the data it announces, or lying about it). */
const craftedHeader: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .tuple(fc.constantFrom('x', 'g', 'X'), fc.array(PAX_RECORD, { maxLength: 5 }), fc.constantFrom(0, 0, 0, -3, 7))
    .map(([flag, records, lie]) => extension(flag, Buffer.from(records.join(''), 'latin1'), lie)),
  fc
    .tuple(fc.constantFrom('L', 'K'), fc.oneof(NAMES, fc.constant('l'.repeat(700)), PAX_VALUES), fc.boolean())
    .map(([flag, name, nul]) => extension(flag, Buffer.from(nul ? `${name}\0` : name, 'latin1'))),
  OLD_SPARSE,
  fc
    .tuple(fc.constantFrom(...TYPEFLAGS), SIZE_FIELDS)
    .map(([typeflag, size]) => headerBlock({ name: 'big', typeflag, size })),
  fc
    .tuple(NAMES, fc.constantFrom(...TYPEFLAGS), NAMES, fc.constantFrom('ustar\x0000', 'ustar  \0', '\0\0\0\0\0\0\0\0'))
    .map(([name, typeflag, linkname, magic]) => headerBlock({ name, typeflag, linkname, magic })),
  fc.constant(Buffer.alloc(512)), // a lone zero block
  fc.constant(extension('x', Buffer.alloc(0), 8 * 1024 * 1024 + 1).subarray(0, 512)), // over the pax limit
);

// ---- mutations -----------------------------------------------------------------------------

/** Header fields and values that break them (octal overflow, base-256, garbage, NULs). */
const FIELDS: Record<string, [number, number]> = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 8],
  uname: [265, 32],
  devmajor: [329, 8],
  prefix: [345, 155],
  sparse: [386, 97],
  realsize: [483, 12],
};

const FIELD_VALUE = fc.oneof(
  fc.constantFrom(
    '77777777777777777777',
    '0000000',
    '8888',
    '   12 ',
    '\0',
    'ustar\x0000',
    'ustar  \0',
    '\x80\0\0\0\0\0\0\x01',
    '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff',
    '\x80\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff',
    ...TYPEFLAGS,
    '..',
    '../x',
    '/abs',
    '.wh.',
  ),
  fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a).toString('latin1')),
);

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; block: number; bytes: Buffer }
  | { kind: 'remove'; block: number; count: number }
  | { kind: 'field'; header: number; field: string; value: string; fix: boolean };

const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    block: fc.nat(),
    bytes: fc.oneof(
      craftedHeader,
      fc.uint8Array({ minLength: 512, maxLength: 512 }).map((a) => Buffer.from(a)),
      fc.uint8Array({ minLength: 1, maxLength: 600 }).map((a) => Buffer.from(a)), // misaligns what follows
    ),
  }),
  fc.record({ kind: fc.constant('remove' as const), block: fc.nat(), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    kind: fc.constant('field' as const),
    header: fc.nat(),
    field: fc.constantFrom(...Object.keys(FIELDS)),
    value: FIELD_VALUE,
    fix: fc.boolean(),
  }),
);

/** Apply one mutation; `headers` are the offsets of header blocks in the original archive. */
function mutate(tar: Buffer, m: Mutation, headers: readonly number[]): Buffer {
  const blocks = Math.ceil(tar.length / 512);
  switch (m.kind) {
    case 'flip': {
      if (tar.length === 0) return tar;
      const c = Buffer.from(tar);
      c[m.at % c.length]! ^= m.mask;
      return c;
    }
    case 'truncate':
      return tar.subarray(0, m.at % (tar.length + 1));
    case 'insert': {
      const at = (m.block % (blocks + 1)) * 512;
      return Buffer.concat([tar.subarray(0, at), m.bytes, tar.subarray(at)]);
    }
    case 'remove': {
      if (blocks === 0) return tar;
      const at = (m.block % blocks) * 512;
      return Buffer.concat([tar.subarray(0, at), tar.subarray(at + m.count * 512)]);
    }
    case 'field': {
      if (headers.length === 0) return tar;
      const at = headers[m.header % headers.length]!;
      if (at + 512 > tar.length) return tar;
      const c = Buffer.from(tar);
      const [start, len] = FIELDS[m.field]!;
      c.fill(0, at + start, at + start + len);
      c.write(m.value, at + start, len, 'latin1');
      if (m.fix) fixChecksum(c.subarray(at, at + 512));
      return c;
    }
  }
}

/** Offsets of the 512-byte blocks that look like headers (a valid checksum): where to aim field mutations. */
function headerOffsets(tar: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 512 <= tar.length; at += 512) {
    const block = tar.subarray(at, at + 512);
    const stored = parseInt(block.toString('latin1', 148, 156).replace(/[\0 ]+$/, ''), 8);
    let sum = 256;
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += block[i]!;
    if (stored === sum) out.push(at);
  }
  return out;
}

/** A tar (valid, crafted, or both spliced) with 1-4 mutations applied. */
export const mutatedTar: fc.Arbitrary<Buffer> = fc
  .tuple(
    validTar,
    fc.array(craftedHeader, { maxLength: 2 }),
    fc.nat(),
    fc.array(MUTATION, { minLength: 1, maxLength: 4 }),
  )
  .map(([tar, crafted, at, mutations]) => {
    const headers = headerOffsets(tar);
    // splice the crafted headers in at a header boundary of the valid archive
    const cut = headers.length ? headers[at % headers.length]! : 0;
    let out: Buffer = Buffer.concat([tar.subarray(0, cut), ...crafted, tar.subarray(cut)]);
    const aims = headerOffsets(out);
    for (const m of mutations) out = mutate(out, m, aims);
    return shown(out);
  });

/** Random bytes, sometimes starting like a tar header block. */
export const randomBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
  fc.tuple(craftedHeader, fc.uint8Array({ maxLength: 2000 })).map(([h, rest]) => Buffer.concat([h, Buffer.from(rest)])),
);
