#!/usr/bin/env python3
"""scripts/e2e/make-damaged.py OUTDIR — docker-archives with a damaged layer, for scripts/e2e/integrity.sh.

Writes, each a two-layer image (a 24 MiB file of noise in the bottom layer, so a flat layer piped
to stdout has gone out in part before its check can fail; a small top layer):

  OUTDIR/good.tar      classic `docker save` layout (<id>/layer.tar), undamaged: the control
  OUTDIR/classic.tar   the same layout, one byte of the big file's last data block flipped: only
                       the config's diff_id can tell
  OUTDIR/docker25.tar  Docker >= 25 layout (manifest.json naming uncompressed blobs/sha256/<hex>
                       layers, index.json and oci-layout beside it), one byte of the big file's
                       first data block flipped: the blob no longer hashes to its name

Tagged localhost/layerflat-e2e/integrity-{good,classic,docker25}:latest (the same name in docker
and podman). Deterministic: fixed mtimes, owners 0:0, seeded noise, sorted JSON.
"""
import hashlib
import io
import json
import os
import random
import sys
import tarfile

MTIME = 1600000000
BIG = 24 << 20


def tar_of(members):
    """An uncompressed tar of (name, bytes) regular files (dirs for names ending in /)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w', format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name.rstrip('/'))
            info.mtime = MTIME
            info.uname = info.gname = ''
            if name.endswith('/'):
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def dumps(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':')).encode()


def layers():
    big = random.Random(9).randbytes(BIG)
    bottom = tar_of([('data/', b''), ('data/first', b'first file\n'), ('data/big', big), ('data/last', b'last\n')])
    top = tar_of([('etc/', b''), ('etc/integrity', b'top layer\n')])
    # where the big file's data lies in the bottom layer: after its header (and any pax header)
    start = bottom.index(big[:4096])
    return [bottom, top], start


def config_of(tars):
    return dumps({
        'architecture': 'amd64', 'os': 'linux',
        'config': {'Cmd': ['/bin/true']},
        'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + sha(t) for t in tars]},
        'history': [{'created_by': 'make-damaged.py layer %d' % i} for i in range(len(tars))],
    })


def flip(data, at):
    b = bytearray(data)
    b[at] ^= 0xff
    return bytes(b)


def classic(tars, stored, tag):
    config = config_of(tars)
    names = ['%s/layer.tar' % sha(b'layer %d %s' % (i, sha(t).encode())) for i, t in enumerate(tars)]
    files = [(n, s) for n, s in zip(names, stored)]
    files.append(('%s.json' % sha(config), config))
    files.append(('manifest.json', dumps([{'Config': '%s.json' % sha(config), 'RepoTags': [tag], 'Layers': names}])))
    return tar_of(files)


def docker25(tars, stored, tag):
    config = config_of(tars)
    descs = [{'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': 'sha256:' + sha(t), 'size': len(t)}
             for t in tars]
    manifest = dumps({
        'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
        'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': 'sha256:' + sha(config),
                   'size': len(config)},
        'layers': descs,
    })
    index = dumps({
        'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
        'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': 'sha256:' + sha(manifest),
                       'size': len(manifest), 'annotations': {'io.containerd.image.name': tag,
                                                              'org.opencontainers.image.ref.name': 'latest'}}],
    })
    files = [('blobs/sha256/' + sha(t), s) for t, s in zip(tars, stored)]
    files += [('blobs/sha256/' + sha(config), config), ('blobs/sha256/' + sha(manifest), manifest)]
    files += [('index.json', index), ('oci-layout', dumps({'imageLayoutVersion': '1.0.0'}))]
    files.append(('manifest.json', dumps([{
        'Config': 'blobs/sha256/' + sha(config), 'RepoTags': [tag],
        'Layers': ['blobs/sha256/' + sha(t) for t in tars],
    }])))
    return tar_of(files)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tars, start = layers()
    last_block = start + (BIG - 1) // 512 * 512 + 100
    archives = {
        'good': classic(tars, tars, 'localhost/layerflat-e2e/integrity-good:latest'),
        'classic': classic(tars, [flip(tars[0], last_block), tars[1]], 'localhost/layerflat-e2e/integrity-classic:latest'),
        'docker25': docker25(tars, [flip(tars[0], start + 100), tars[1]], 'localhost/layerflat-e2e/integrity-docker25:latest'),
    }
    for name, data in archives.items():
        with open(os.path.join(out, name + '.tar'), 'wb') as f:
            f.write(data)
        print('%s.tar: %d bytes, sha256:%s' % (name, len(data), sha(data)))


if __name__ == '__main__':
    main()
