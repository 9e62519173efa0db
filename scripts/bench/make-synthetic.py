#!/usr/bin/env python3
"""Write a root-filesystem tar for the benchmark's synthetic images (to `docker import`).

  make-synthetic.py one-file SIZE OUT.tar     one regular file /data/blob.bin of SIZE bytes
                                              (pseudo-random, so it does not compress)
  make-synthetic.py many-paths COUNT OUT.tar  COUNT small files in a tree of 1000-file dirs
"""
import hashlib
import io
import sys
import tarfile


class PseudoRandom(io.RawIOBase):
    """SIZE bytes of incompressible data without reading /dev/urandom (SHA-256 counter stream)."""

    def __init__(self, size):
        self.left = size
        self.block = b''.join(hashlib.sha256(i.to_bytes(8, 'little')).digest() for i in range(32768))  # 1 MiB
        self.n = 0

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.left, len(self.block))
        if k <= 0:
            return 0
        # vary each MiB so no block repeats within gzip's window or zstd's long range
        self.n += 1
        head = hashlib.sha256(self.n.to_bytes(8, 'little')).digest()
        chunk = head + self.block[len(head):k] if k > len(head) else head[:k]
        b[:k] = chunk
        self.left -= k
        return k


def info(name, size=0, kind=tarfile.REGTYPE, mode=0o644):
    t = tarfile.TarInfo(name)
    t.size, t.type, t.mode, t.mtime = size, kind, mode, 1704067200
    return t


def main():
    kind, arg, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT, bufsize=1 << 20) as tar:
        tar.addfile(info('data', kind=tarfile.DIRTYPE, mode=0o755))
        if kind == 'one-file':
            tar.addfile(info('data/blob.bin', arg), io.BufferedReader(PseudoRandom(arg), 1 << 20))
        elif kind == 'many-paths':
            for i in range(arg):
                if i % 1000 == 0:
                    tar.addfile(info(f'data/d{i // 1000:04d}', kind=tarfile.DIRTYPE, mode=0o755))
                body = f'file {i}\n'.encode()
                tar.addfile(info(f'data/d{i // 1000:04d}/file-{i:07d}.txt', len(body)), io.BytesIO(body))
        else:
            sys.exit(f'unknown kind {kind}')


main()
