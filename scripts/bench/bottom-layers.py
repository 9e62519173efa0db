#!/usr/bin/env python3
"""Write a docker-archive of the bottom K layers of another one (no engine needed).

  bottom-layers.py IN.tar K OUT.tar [REPO:TAG]

The image as it was after its K-th layer: the first K layers, the config's rootfs.diff_ids cut to
K and its history cut after the K-th entry that made a layer; the rest of the config (Cmd, User,
Env, ...) is the original's. Only manifest.json, the new config and the K layer members are
written. For the registry benchmark's modest image (scripts/bench/registry.sh).
"""
import hashlib
import io
import json
import sys
import tarfile


def main():
    src, k, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    tag = sys.argv[4] if len(sys.argv) > 4 else f'layerflat-bench/bottom-{k}:latest'
    with tarfile.open(src, 'r:') as inp:
        manifest = json.load(inp.extractfile('manifest.json'))
        if len(manifest) != 1:
            sys.exit(f'{src}: {len(manifest)} images in manifest.json, want 1')
        m = manifest[0]
        if not 1 <= k <= len(m['Layers']):
            sys.exit(f'{src}: has {len(m["Layers"])} layers, cannot keep {k}')
        config = json.load(inp.extractfile(m['Config']))
        config['rootfs']['diff_ids'] = config['rootfs']['diff_ids'][:k]
        history, made = [], 0
        for h in config.get('history', []):
            if made == k:
                break
            history.append(h)
            if not h.get('empty_layer'):
                made += 1
        config['history'] = history
        config_bytes = json.dumps(config, separators=(',', ':')).encode()
        config_name = hashlib.sha256(config_bytes).hexdigest() + '.json'
        layers = m['Layers'][:k]
        new_manifest = [{'Config': config_name, 'RepoTags': [tag], 'Layers': layers}]
        with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as outp:

            def add_bytes(name, data):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                outp.addfile(info, io.BytesIO(data))

            add_bytes(config_name, config_bytes)
            for name in layers:
                member = inp.getmember(name)
                data = inp.extractfile(member)  # follows a symlinked (deduplicated) layer
                if not member.isfile():
                    target = member
                    while not target.isfile():
                        target = inp._find_link_target(target)  # pylint: disable=protected-access
                    member = tarfile.TarInfo(name)
                    member.size, member.mode = target.size, 0o644
                outp.addfile(member, data)
            add_bytes('manifest.json', json.dumps(new_manifest, separators=(',', ':')).encode())


if __name__ == '__main__':
    main()
