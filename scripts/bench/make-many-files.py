#!/usr/bin/env python3
"""scripts/bench/make-many-files.py OUT.tar — a docker-archive of two layers of 150,000 small files
each (300,000 in all, in 300 directories), one in three a copy of one of 1,000 contents, the others
unique but of the same sizes: what --dedupe must group, hash and remember without its memory
growing with more than the number of files (scripts/bench/dedupe.sh). Deterministic."""
import sys
import io, json, hashlib, tarfile, random
random.seed(1)
def layer(n, off):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode='w', format=tarfile.PAX_FORMAT) as t:
        for d in range(300):
            ti = tarfile.TarInfo(f'd{d}'); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.mtime = 1600000000; t.addfile(ti)
        for i in range(n):
            # one in three files duplicates one of 1000 contents; the rest are unique, sizes overlap
            data = (f'dup {i % 1000}\n' * 20).encode() if i % 3 == 0 else (f'unique {off + i} ' * 12).encode()[:len(f'dup {i % 1000}\n' * 20)]
            ti = tarfile.TarInfo(f'd{i % 300}/f{off + i}'); ti.size = len(data); ti.mode = 0o644; ti.mtime = 1600000000 + i
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
layers = [layer(150000, 0), layer(150000, 150000)]
diff = ['sha256:' + hashlib.sha256(l).hexdigest() for l in layers]
cfg = json.dumps({'architecture': 'amd64', 'os': 'linux', 'config': {}, 'rootfs': {'type': 'layers', 'diff_ids': diff}}).encode()
with tarfile.open(sys.argv[1], 'w') as out:
    def add(name, data):
        ti = tarfile.TarInfo(name); ti.size = len(data); out.addfile(ti, io.BytesIO(data))
    add('config.json', cfg)
    for i, l in enumerate(layers): add(f'{i}/layer.tar', l)
    add('manifest.json', json.dumps([{'Config': 'config.json', 'RepoTags': ['x/y:1'], 'Layers': ['0/layer.tar', '1/layer.tar']}]).encode())
