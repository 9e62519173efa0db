#!/usr/bin/env python3
"""scripts/e2e/crafted/list-tar.py TAR [PREFIX...] — one line per member with full metadata:

  path  type  mode  uid:gid  mtime  size  sha256[:12]  -> link  {pax keys incl. SCHILY.xattr.*}

(the order is the tar's). With PREFIXes only the members at or below them (no leading '/').
`--docker-archive ARCHIVE` lists each layer of a docker-archive in turn instead, names as written."""
import hashlib
import io
import json
import sys
import tarfile

KIND = {tarfile.REGTYPE: 'file', tarfile.AREGTYPE: 'file', tarfile.DIRTYPE: 'dir', tarfile.SYMTYPE: 'symlink',
        tarfile.LNKTYPE: 'hardlink', tarfile.CHRTYPE: 'chardev', tarfile.BLKTYPE: 'blockdev', tarfile.FIFOTYPE: 'fifo'}


def norm(p):
    while p.startswith('./'):
        p = p[2:]
    return p.lstrip('/').rstrip('/') or '.'


def lines(tf, prefixes, raw=False):
    for m in tf:
        p = norm(m.name)
        if prefixes and not any(p == q or p.startswith(q + '/') for q in prefixes):
            continue
        digest = ''
        if m.isreg():
            digest = hashlib.sha256(tf.extractfile(m).read()).hexdigest()[:12]
        kind = KIND.get(m.type, repr(m.type))
        if m.ischr() or m.isblk():
            kind += f'({m.devmajor},{m.devminor})'
        pax = {k: (v if all(32 <= ord(c) < 127 for c in v) else v.encode('utf-8', 'surrogateescape').hex())
               for k, v in sorted(m.pax_headers.items()) if k not in ('path', 'linkpath', 'size', 'mtime', 'atime', 'ctime')}
        yield '  '.join([m.name if raw else p, kind, f'{m.mode & 0o7777:04o}', f'{m.uid}:{m.gid}', str(int(m.mtime)), str(m.size), digest or '-',
                         ('-> ' + m.linkname) if m.linkname else '', json.dumps(pax) if pax else '']).rstrip()


def main(argv):
    if argv[:1] == ['--docker-archive']:
        with tarfile.open(argv[1]) as outer:
            manifest = json.load(outer.extractfile('manifest.json'))
            for i, layer in enumerate(manifest[0]['Layers']):
                print(f'== layer {i + 1}: {layer}')
                with tarfile.open(fileobj=io.BytesIO(outer.extractfile(layer).read()), mode='r:') as tf:
                    for l in lines(tf, [norm(p) for p in argv[2:]], raw=True):
                        print(l)
        return 0
    with tarfile.open(argv[0]) as tf:
        for l in lines(tf, [norm(p) for p in argv[1:]]):
            print(l)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
