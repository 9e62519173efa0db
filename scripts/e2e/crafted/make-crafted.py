#!/usr/bin/env python3
"""scripts/e2e/crafted/make-crafted.py OUTDIR [CASE...] — crafted docker-archives for the e2e suite.

Writes one docker-archive per case, OUTDIR/CASE.tar (manifest.json + config + one uncompressed tar
per layer), and OUTDIR/cases.tsv listing every case written: name, the outcome both engines give
(`loads` or `refused`; `docker=loads,podman=refused` where they differ) and a one-line
description. The outcomes are the ones observed with dockerd 20.10 (vfs) and rootless podman 4.3
(vfs), see docs/engine-rules.md; scripts/e2e/crafted.sh checks layerflat against them.

Deterministic: fixed mtimes (every layer has its own, see T()), owners 0:0 unless a case says
otherwise, no user/group names, sorted JSON; the same script writes byte-identical archives.
Layer tars are written block by block here (tarfile only builds the headers), so a case can put
raw blocks (a lone zero block) anywhere and use names tarfile would never produce.

  --list     print the cases (name, outcome, description) and write nothing
"""
import hashlib
import json
import os
import struct
import sys
import tarfile

BLOCK = 512
ZERO = b'\0' * BLOCK


def T(layer, plus=0):
    """The mtime of layer LAYER's entries (layers are 1-based): 2020-09-13 + LAYER days."""
    return 1600000000 + layer * 86400 + plus


# --- entries -------------------------------------------------------------------------------------
class E:
    """One tar entry: kind is file, dir, symlink, hardlink, chardev, fifo, or raw (bytes as they are)."""

    def __init__(self, kind, name, data=b'', mode=None, uid=0, gid=0, mtime=None, link='', pax=None,
                 devmajor=0, devminor=0):
        self.kind, self.name, self.data, self.uid, self.gid = kind, name, data, uid, gid
        self.mode = mode if mode is not None else {'dir': 0o755, 'symlink': 0o777, 'hardlink': 0o644,
                                                   'chardev': 0o666, 'fifo': 0o644}.get(kind, 0o644)
        self.mtime, self.link, self.pax = mtime, link, dict(pax or {})
        self.devmajor, self.devminor = devmajor, devminor


def F(name, data='', **kw):
    return E('file', name, data.encode() if isinstance(data, str) else data, **kw)


def D(name, **kw):
    return E('dir', name, **kw)


def S(name, target, **kw):
    return E('symlink', name, link=target, **kw)


def H(name, target, data=b'', **kw):
    return E('hardlink', name, data.encode() if isinstance(data, str) else data, link=target, **kw)


def RAW(data):
    return E('raw', '', data)


def wh(path):
    """The whiteout of PATH: DIR/.wh.NAME (an empty file)."""
    d, _, n = path.rpartition('/')
    return F((d + '/' if d else '') + '.wh.' + n)


def opq(dirpath):
    return F(dirpath.rstrip('/') + '/.wh..wh..opq')


TYPES = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE,
         'hardlink': tarfile.LNKTYPE, 'chardev': tarfile.CHRTYPE, 'fifo': tarfile.FIFOTYPE}


def xattr(value):
    """A pax SCHILY.xattr.* value given as bytes (tarfile takes str; surrogateescape keeps bytes)."""
    return value.decode('utf-8', 'surrogateescape') if isinstance(value, bytes) else value


def layer_bytes(entries, mtime):
    out = bytearray()
    for e in entries:
        if e.kind == 'raw':
            out += e.data
            continue
        ti = tarfile.TarInfo(e.name)
        ti.type = TYPES[e.kind]
        ti.mode = e.mode
        ti.uid, ti.gid = e.uid, e.gid
        ti.uname = ti.gname = ''
        ti.mtime = e.mtime if e.mtime is not None else mtime
        ti.linkname = e.link
        # a hardlink carries data only when a case gives it some (size > 0 on a link header)
        ti.size = len(e.data) if e.kind in ('file', 'hardlink') else 0
        ti.devmajor, ti.devminor = e.devmajor, e.devminor
        ti.pax_headers = {k: xattr(v) for k, v in e.pax.items()}
        # tarfile adds a '/' to a directory's name; the name is written as given otherwise
        # (absolute names and '..' stay: only extraction would clean them)
        out += ti.tobuf(tarfile.PAX_FORMAT, 'utf-8', 'surrogateescape')
        if e.kind in ('file', 'hardlink'):
            out += e.data + b'\0' * (-len(e.data) % BLOCK)
    return bytes(out + ZERO + ZERO)


# --- the base layer ------------------------------------------------------------------------------
PASSWD = 'root:x:0:0:root:/root:/bin/sh\n'
GROUP = 'root:x:0:\n'


def base(extra=()):
    """Layer 1 of most cases: a few directories and files (not runnable)."""
    return [D('bin'), F('bin/true', '#!/bin/sh\nexit 0\n', mode=0o755), D('etc'), F('etc/passwd', PASSWD),
            F('etc/group', GROUP), D('usr'), D('usr/lib'), F('usr/lib/os-release', 'ID=layerflat-crafted\n'),
            *extra]


CASES = []  # (name, outcome, description, [layers])


def case(name, outcome, desc, *layers):
    CASES.append((name, outcome, desc, [list(l) for l in layers]))


NEW = 'from the upper layer\n'

# --- 1. paths under a symlink --------------------------------------------------------------------
case('symlink-parent-relative', 'loads', 'layer 2 link -> etc, layer 3 link/passwd: written through the symlink',
     base(), [S('link', 'etc')], [F('link/passwd', NEW)])
case('symlink-parent-absolute', 'loads', 'layer 2 link -> /etc, layer 3 link/passwd',
     base(), [S('link', '/etc')], [F('link/passwd', NEW)])
case('symlink-parent-climb', 'loads', 'layer 2 link -> ../../etc (climbs above /), layer 3 link/passwd',
     base(), [S('link', '../../etc')], [F('link/passwd', NEW)])
case('symlink-parent-chain', 'loads', 'layer 2 a -> b, b -> etc; layer 3 a/x',
     base(), [S('a', 'b'), S('b', 'etc')], [F('a/x', NEW)])
case('symlink-parent-dangling', 'refused', 'layer 2 link -> nowhere (missing); layer 3 link/x',
     base(), [S('link', 'nowhere')], [F('link/x', NEW)])
case('symlink-parent-to-file', 'refused', 'layer 2 link -> etc/passwd (a file); layer 3 link/x',
     base(), [S('link', 'etc/passwd')], [F('link/x', NEW)])
case('symlink-parent-same-layer', 'loads', 'layer 2: link -> etc, then link/x',
     base(), [S('link', 'etc'), F('link/x', NEW)])
case('symlink-parent-same-layer-entry-first', 'loads', 'layer 2: link/x, then link -> etc',
     base(), [F('link/x', NEW), S('link', 'etc')])
case('symlink-parent-whiteout-then-entry', 'loads', 'layer 2 link -> etc; layer 3: .wh.link, then link/x',
     base(), [S('link', 'etc')], [wh('link'), F('link/x', NEW)])
case('symlink-parent-entry-then-whiteout', 'loads', 'layer 2 link -> etc; layer 3: link/x, then .wh.link',
     base(), [S('link', 'etc')], [F('link/x', NEW), wh('link')])
case('symlink-parent-entry-then-dir', 'loads', 'layer 2 link -> etc; layer 3: link/x, then a dir entry link/',
     base(), [S('link', 'etc')], [F('link/x', NEW), D('link', mode=0o700)])
case('symlink-parent-dir-then-entry', 'loads', 'layer 2 link -> etc; layer 3: a dir entry link/, then link/x',
     base(), [S('link', 'etc')], [D('link', mode=0o700), F('link/x', NEW)])
case('symlink-parent-deep', 'loads', 'layer 2 usr/lib64 -> lib; layer 3 usr/lib64/foo',
     base(), [S('usr/lib64', 'lib')], [F('usr/lib64/foo', NEW)])
case('hardlink-through-symlink', 'loads', 'layer 2 link -> etc; layer 3 hardlink h -> link/passwd',
     base(), [S('link', 'etc')], [H('h', 'link/passwd')])
case('whiteout-under-symlink', 'loads', 'layer 2 link -> etc; layer 3 link/.wh.passwd',
     base(), [S('link', 'etc')], [wh('link/passwd')])
case('opaque-under-symlink', 'loads', 'layer 2 link -> etc; layer 3 link/.wh..wh..opq and link/x',
     base(), [S('link', 'etc')], [opq('link'), F('link/x', NEW)])
case('symlink-parent-loop', 'refused', 'layer 2 a -> b, b -> a; layer 3 a/x',
     base(), [S('a', 'b'), S('b', 'a')], [F('a/x', NEW)])
case('symlink-parent-dotdot', 'loads', 'layer 2 x -> usr/../etc; layer 3 x/y',
     base(), [S('x', 'usr/../etc')], [F('x/y', NEW)])
case('symlink-parent-dotdot-physical', 'loads',
     'layer 2 usr/libsub -> lib/sub, x -> usr/libsub/../etc (usr/lib/etc physically, usr/etc lexically); layer 3 x/y',
     base([D('usr/lib/sub'), D('usr/lib/etc'), D('usr/etc')]), [S('usr/libsub', 'lib/sub'), S('x', 'usr/libsub/../etc')],
     [F('x/y', NEW)])

# --- 2. names ------------------------------------------------------------------------------------
VICTIM = [D('victim'), F('victim/hello', 'hello\n')]
case('name-absolute', 'loads', 'layer 2 member /abs/file (and /abs/ dir entry)',
     base(), [D('/abs'), F('/abs/file', NEW)])
case('hardlink-absolute-target', 'loads', 'layer 1 regular; layer 2 hardlink h -> /regular',
     base([F('regular', 'regular\n')]), [H('h', '/regular')])
case('name-dotdot-climb', 'loads', 'layer 2 member ../victim/dotdot',
     base(VICTIM), [F('../victim/dotdot', NEW)])
case('name-dotdot-middle', 'loads', 'layer 2 member a/../../b',
     base(), [F('a/../../b', NEW)])
case('name-dot-slash', 'loads', 'layer 2 member ./x',
     base(), [F('./x', NEW)])
case('name-double-slash', 'loads', 'layer 2 members a/ and a//b',
     base(), [D('a'), F('a//b', NEW)])
case('hardlink-dotdot-target', 'loads', 'layer 1 victim/hello; layer 2 hardlink h -> ../victim/hello',
     base(VICTIM), [H('h', '../victim/hello')])
case('hardlink-dotdot-target-same-layer', 'loads', 'layer 2: victim/hello, then hardlink h -> ../victim/hello',
     base(), VICTIM + [H('h', '../victim/hello')])
case('hardlink-dotdot-target-nested', 'loads', 'layer 1 victim/hello; layer 2 hardlink sub/h -> ../../victim/hello',
     base(VICTIM), [D('sub'), H('sub/h', '../../victim/hello')])

# --- 3. hardlink header metadata -----------------------------------------------------------------
LINKPAX = {'SCHILY.xattr.user.onlink': 'yes'}
FILEPAX = {'SCHILY.xattr.user.onfile': 'yes'}
case('hardlink-header-meta', 'loads',
     'layer 2 regular (0644 0:0, xattr user.onfile) and hard link -> regular whose header says 1337:2020 0755, later mtime, xattr user.onlink',
     base(), [F('regular', 'regular\n', pax=FILEPAX), H('hard link', 'regular', uid=1337, gid=2020, mode=0o755, mtime=T(2, 3600), pax=LINKPAX)])
case('hardlink-header-mode0', 'loads', 'layer 2 regular (0644) and hard link -> regular whose header says mode 0',
     base(), [F('regular', 'regular\n'), H('hard link', 'regular', mode=0)])
case('hardlink-header-overwrite', 'loads',
     'hardlink-header-meta, then layer 3 overwrites regular (0600, new content): what hard link keeps',
     base(), [F('regular', 'regular\n'), H('hard link', 'regular', uid=1337, gid=2020, mode=0o755, mtime=T(2, 3600), pax=LINKPAX)],
     [F('regular', NEW, mode=0o600)])

# --- 4. the same path twice in one layer ---------------------------------------------------------
case('dup-file-file', 'refused', 'layer 2: file d1 twice (first, then second content)',
     base(), [F('d1', 'first\n'), F('d1', 'second\n', mode=0o600)])
case('dup-dir-dir', 'refused', 'layer 2: dir dd twice (0755, then 0700 1:1), a file in between',
     base(), [D('dd'), F('dd/f', 'f\n'), D('dd', mode=0o700, uid=1, gid=1)])
case('dup-file-dir', 'refused', 'layer 2: file fd, then dir fd/ and fd/g',
     base(), [F('fd', 'file\n'), D('fd'), F('fd/g', 'g\n')])
case('dup-dir-file', 'refused', 'layer 2: dir df/ with df/g, then file df',
     base(), [D('df'), F('df/g', 'g\n'), F('df', 'file\n')])
case('dup-hardlink-file', 'refused', 'layer 2: regular, hardlink hl -> regular, then file hl',
     base(), [F('regular', 'regular\n'), H('hl', 'regular'), F('hl', 'file\n')])
case('dup-file-hardlink', 'refused', 'layer 2: regular, file hl, then hardlink hl -> regular',
     base(), [F('regular', 'regular\n'), F('hl', 'file\n'), H('hl', 'regular')])
case('dup-double-slash', 'refused', 'layer 2: dir a/, file a/b, then file a//b',
     base(), [D('a'), F('a/b', 'one\n'), F('a//b', 'two\n')])
case('dup-dotdot', 'refused', 'layer 2: file a, then file x/../a',
     base(), [F('a', 'one\n'), F('x/../a', 'two\n')])
case('dup-absolute-relative', 'loads', 'layer 2: file /a, then file a (the same path once cleaned)',
     base(), [F('/a', 'absolute\n'), F('a', 'relative\n')])
case('dup-dot-relative', 'refused', 'layer 2: file ./a, then file a',
     base(), [F('./a', 'dot\n'), F('a', 'relative\n')])
case('whiteout-then-entry-same-layer', 'loads', 'layer 1 wf; layer 2: .wh.wf, then wf',
     base([F('wf', 'lower\n')]), [wh('wf'), F('wf', NEW)])
case('entry-then-whiteout-same-layer', 'loads', 'layer 1 wf; layer 2: wf, then .wh.wf',
     base([F('wf', 'lower\n')]), [F('wf', NEW), wh('wf')])

# --- 5. zero blocks in the middle ----------------------------------------------------------------
case('zero-block-lone', 'refused', 'layer 2: file a, one zero block, file b',
     base(), [F('a', 'a\n'), RAW(ZERO), F('b', 'b\n')])
case('zero-block-double', 'loads', 'layer 2: file a, two zero blocks, file b',
     base(), [F('a', 'a\n'), RAW(ZERO + ZERO), F('b', 'b\n')])

# --- 6. what an export shows that the layers do not ----------------------------------------------
# security.capability v2: cap_net_raw (13) permitted, effective flag set
CAP = struct.pack('<IIIII', 0x02000001, 1 << 13, 0, 0, 0)
case('no-etc', 'loads', 'one layer: bin/true only, no etc/ at all',
     [D('bin'), F('bin/true', '#!/bin/sh\nexit 0\n', mode=0o755)])
case('symlink-modes', 'loads', 'symlinks whose headers say mode 0, 0644, 0755, 0777',
     base(), [D('s'), S('s/m0', '../etc', mode=0), S('s/m644', '../etc', mode=0o644),
              S('s/m755', '../etc', mode=0o755), S('s/m777', '../etc', mode=0o777)])
case('hardlink-to-symlink', 'loads', 'layer 2: symlink s -> etc/passwd, hardlink h -> s',
     base(), [S('s', 'etc/passwd'), H('h', 's')])
case('xattrs-user', 'loads', 'layer 2: file with user.* xattrs (dir with one too)',
     base(), [D('x', pax={'SCHILY.xattr.user.dir': 'd'}),
              F('x/user', 'u\n', pax={'SCHILY.xattr.user.a': 'one', 'SCHILY.xattr.user.b': 'two'})])
case('xattrs-capability', 'loads', 'layer 2: file with security.capability (cap_net_raw+ep, v2)',
     base(), [D('x'), F('x/cap', 'c\n', mode=0o755, pax={'SCHILY.xattr.security.capability': CAP})])
case('xattrs-trusted', 'loads', 'layer 2: file with a trusted.* xattr',
     base(), [D('x'), F('x/trusted', 't\n', pax={'SCHILY.xattr.trusted.t': 'yes'})])
case('dir-mtimes', 'loads',
     'which dirs keep the layer mtime: implicit parents, parents of whiteouts/opaque/replaced/added paths',
     base([D('wd'), F('wd/f', 'f\n'), F('wd/keep', 'k\n'),
           D('od'), F('od/f', 'f\n'),
           D('rd'), F('rd/f', 'f\n'),
           D('ad'), F('ad/f', 'f\n'),
           D('ed'), F('ed/f', 'f\n'),
           D('ed2'), F('ed2/f', 'f\n'),
           D('wd2'), F('wd2/f', 'f\n'), F('wd2/keep', 'k\n'),
           D('od2'), F('od2/f', 'f\n')]),
     [F('imp/a/b/c', 'c\n'),              # implicit parents imp/ imp/a/ imp/a/b/
      wh('wd/f'),                         # a whiteout, no entry for wd/
      opq('od'), F('od/n', 'n\n'),        # opaque marker, no entry for od/
      F('rd/f', 'replaced\n'),            # replaced file, no entry for rd/
      F('ad/new', 'added\n'),             # added file, no entry for ad/
      D('ed', mtime=T(2, 7)), F('ed/new', 'added\n'),  # added file after its dir's own entry
      F('ed2/new', 'added\n'), D('ed2', mtime=T(2, 8)),  # added file before its dir's own entry
      D('wd2', mtime=T(2, 9)), wh('wd2/f'),                # a whiteout and its dir's own entry
      D('od2', mtime=T(2, 10)), opq('od2'), F('od2/n', 'n\n')])  # opaque marker and the dir's own entry
case('engine-files-present', 'loads',
     'the image has its own etc/hosts, etc/hostname, etc/resolv.conf, etc/mtab (a file), .dockerenv, dev/, proc/, sys/',
     base([F('etc/hosts', '# image hosts\n'), F('etc/hostname', 'image\n'), F('etc/resolv.conf', '# image resolv\n'),
           F('etc/mtab', '# image mtab\n', mode=0o600), F('.dockerenv', 'image\n', mode=0o600),
           D('dev', mode=0o700), F('dev/console', 'image console\n', mode=0o600), D('proc', mode=0o555), D('sys', mode=0o500),
           D('run'), F('run/.containerenv', 'image\n')]))
case('device-nodes', 'loads', 'layer 2: a char device (1,3) and a fifo',
     base(), [D('special'), E('chardev', 'special/null-dev', devmajor=1, devminor=3), E('fifo', 'special/fifo')])


# --- 7. whiteout and entry order within one layer ------------------------------------------------
# (layer 1 wf, layer 2 wf then .wh.wf, and the reverse: entry-then-whiteout-same-layer and
# whiteout-then-entry-same-layer in section 4)
case('new-file-then-whiteout-same-layer', 'loads', 'layer 1 has no b; layer 2: b, then .wh.b',
     base(), [F('b', NEW), wh('b')])
case('whiteout-then-new-file-same-layer', 'loads', 'layer 1 has no b; layer 2: .wh.b, then b',
     base(), [wh('b'), F('b', NEW)])
LOWER_D = [D('d', mode=0o750, uid=1001, gid=1001), F('d/x', 'x\n')]
case('whiteout-dir-then-child-same-layer', 'loads',
     'layer 1 d/ (0750 1001:1001) + d/x; layer 2: .wh.d, then d/y (no entry for d/)',
     base(LOWER_D), [wh('d'), F('d/y', NEW)])
case('child-then-whiteout-dir-same-layer', 'loads',
     'layer 1 d/ (0750 1001:1001) + d/x; layer 2: d/y, then .wh.d',
     base(LOWER_D), [F('d/y', NEW), wh('d')])
LOWER_O = [D('o'), F('o/old', 'old\n')]
case('child-then-opaque-same-layer', 'loads', 'layer 1 o/ + o/old; layer 2: o/new, then o/.wh..wh..opq',
     base(LOWER_O), [F('o/new', NEW), opq('o')])
case('opaque-then-child-same-layer', 'loads', 'layer 1 o/ + o/old; layer 2: o/.wh..wh..opq, then o/new',
     base(LOWER_O), [opq('o'), F('o/new', NEW)])
case('nested-child-then-opaque-same-layer', 'loads',
     'layer 1 o/old, o/s1/lower, o/s2/lower; layer 2: o/s1/added (no entry for o/s1/), dir o/s2/ + o/s2/added, o/new, then the opaque marker of o',
     base(LOWER_O + [D('o/s1'), F('o/s1/lower', 'lower\n'), D('o/s2'), F('o/s2/lower', 'lower\n')]),
     [F('o/s1/added', NEW), D('o/s2', mtime=T(2, 2)), F('o/s2/added', NEW), F('o/new', NEW), opq('o')])
case('nested-opaque-then-child-same-layer', 'loads',
     'layer 1 as nested-child-then-opaque-same-layer; layer 2: the opaque marker of o first, then o/s1/added, dir o/s2/ + o/s2/added, o/new',
     base(LOWER_O + [D('o/s1'), F('o/s1/lower', 'lower\n'), D('o/s2'), F('o/s2/lower', 'lower\n')]),
     [opq('o'), F('o/s1/added', NEW), D('o/s2', mtime=T(2, 2)), F('o/s2/added', NEW), F('o/new', NEW)])
case('child-through-symlink-then-opaque-same-layer', 'loads',
     'layer 1 o/ + o/old; layer 2: symlink lo -> o, lo/x (lands in o/), then o/.wh..wh..opq',
     base(LOWER_O), [S('lo', 'o'), F('lo/x', NEW), opq('o')])
case('dir-entry-then-opaque-same-layer', 'loads',
     'layer 1 o/ + o/old; layer 2: dir o/ (0700, T2+5), then o/.wh..wh..opq, nothing else',
     base(LOWER_O), [D('o', mode=0o700, mtime=T(2, 5)), opq('o')])
case('opaque-then-dir-entry-same-layer', 'loads',
     'layer 1 o/ + o/old; layer 2: o/.wh..wh..opq, then dir o/ (0700, T2+5), nothing else',
     base(LOWER_O), [opq('o'), D('o', mode=0o700, mtime=T(2, 5))])
LOWER_P = [D('p'), F('p/q', 'q\n')]
case('whiteout-under-then-file-same-layer', 'loads', 'layer 1 p/ + p/q; layer 2: p/.wh.q, then p as a regular file',
     base(LOWER_P), [wh('p/q'), F('p', NEW)])
case('file-then-whiteout-under-same-layer', 'refused', 'layer 1 p/ + p/q; layer 2: p as a regular file, then p/.wh.q',
     base(LOWER_P), [F('p', NEW), wh('p/q')])
case('file-replaces-dir-then-child-same-layer', 'refused', 'layer 1 x/ + x/a; layer 2: x as a regular file, then x/b',
     base([D('x'), F('x/a', 'a\n')]), [F('x', NEW), F('x/b', 'b\n')])
case('whiteout-dir-then-symlink-same-layer', 'loads',
     'layer 1 etc/ + etc/passwd (the base); layer 2: .wh.etc, dir other/, then symlink etc -> other',
     base(), [wh('etc'), D('other'), S('etc', 'other')])

# hardlinks
THREE_NAMES = [F('f', 'f content\n'),
               H('l1', 'f', uid=1001, gid=1001, mode=0o600, mtime=T(2, 1)),
               H('l2', 'f', uid=1002, gid=1002, mode=0o640, mtime=T(2, 2))]
case('hardlink-order-meta', 'loads',
     'layer 2: f (0644 0:0 T2), hardlink l1 -> f (1001:1001 0600 T2+1), hardlink l2 -> f (1002:1002 0640 T2+2)',
     base(), THREE_NAMES)
case('hardlink-order-meta-overwrite', 'loads', 'hardlink-order-meta, then layer 3 overwrites f (new content, 0644 0:0 T3)',
     base(), THREE_NAMES, [F('f', NEW)])
case('hardlink-order-meta-whiteout', 'loads', 'hardlink-order-meta, then layer 3 deletes l2 (.wh.l2)',
     base(), THREE_NAMES, [wh('l2')])
case('hardlink-lower-then-overwrite-target', 'loads',
     'layer 1 t; layer 2: hardlink h -> t (1001:1001 0600 T2+1), then a new file t (0644 0:0 T2)',
     base([F('t', 'lower t\n')]), [H('h', 't', uid=1001, gid=1001, mode=0o600, mtime=T(2, 1)), F('t', NEW)])
case('hardlink-target-whiteout-same-layer', 'loads', 'layer 2: t2, hardlink h -> t2, then .wh.t2',
     base(), [F('t2', 't2\n'), H('h', 't2'), wh('t2')])
case('hardlink-with-data', 'refused',
     'layer 2: t, then hardlink h -> t whose header says size 5, followed by 5 data bytes (padded to a block)',
     base(), [F('t', 't\n'), H('h', 't', data=b'hello')])


# --- writing -------------------------------------------------------------------------------------
def sha(b):
    return hashlib.sha256(b).hexdigest()


def archive(name, layers):
    """The docker-archive of one case, as bytes (an uncompressed tar, layers in order)."""
    ref = f'layerflat-crafted/{name}:latest'
    blobs = [layer_bytes(entries, T(i + 1)) for i, entries in enumerate(layers)]
    config = {
        'architecture': 'amd64', 'os': 'linux', 'created': '2020-09-13T12:26:40Z',
        'config': {'Cmd': ['/bin/true'], 'Env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']},
        'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + sha(b) for b in blobs]},
        'history': [{'created': '2020-09-13T12:26:40Z', 'created_by': f'layerflat crafted {name} layer {i + 1}'}
                    for i in range(len(blobs))],
    }
    cbytes = json.dumps(config, sort_keys=True, separators=(',', ':')).encode()
    cname = sha(cbytes) + '.json'
    lnames = [f'{sha(b)}/layer.tar' for b in blobs]
    manifest = json.dumps([{'Config': cname, 'RepoTags': [ref], 'Layers': lnames}],
                          sort_keys=True, separators=(',', ':')).encode()
    files = [('manifest.json', manifest), (cname, cbytes)] + list(zip(lnames, blobs))
    out = bytearray()
    seen = set()
    for path, data in files:
        d = path.rpartition('/')[0]
        if d and d not in seen:
            seen.add(d)
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, T(0)
            out += ti.tobuf(tarfile.USTAR_FORMAT)
        ti = tarfile.TarInfo(path)
        ti.mode, ti.mtime, ti.size = 0o644, T(0), len(data)
        out += ti.tobuf(tarfile.USTAR_FORMAT) + data + b'\0' * (-len(data) % BLOCK)
    return bytes(out + ZERO + ZERO)


def main(argv):
    if argv[:1] == ['--list']:
        for name, outcome, desc, _ in CASES:
            print(f'{name}\t{outcome}\t{desc}')
        return 0
    if not argv or argv[0].startswith('-'):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    outdir, want = argv[0], set(argv[1:])
    unknown = want - {c[0] for c in CASES}
    if unknown:
        print(f'unknown case(s): {" ".join(sorted(unknown))}', file=sys.stderr)
        return 2
    os.makedirs(outdir, exist_ok=True)
    rows = []
    for name, outcome, desc, layers in CASES:
        if want and name not in want:
            continue
        with open(os.path.join(outdir, name + '.tar'), 'wb') as f:
            f.write(archive(name, layers))
        rows.append(f'{name}\t{outcome}\t{desc}\n')
    with open(os.path.join(outdir, 'cases.tsv'), 'w') as f:
        f.write('# case\toutcome (loads | refused | docker=X,podman=Y)\tdescription\n')
        f.writelines(rows)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
