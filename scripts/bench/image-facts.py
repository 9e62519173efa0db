#!/usr/bin/env python3
"""Facts about a docker-archive for the benchmark report, as JSON on stdout:
size, layer count, per-layer tar bytes and entry counts, whiteouts, repo tags."""
import json
import os
import sys
import tarfile


def main():
    path = sys.argv[1]
    with tarfile.open(path, 'r:') as outer:
        manifest = json.load(outer.extractfile('manifest.json'))[0]
        layers = []
        for name in manifest['Layers']:
            member = outer.getmember(name)
            entries = whiteouts = opaque = files = 0
            with tarfile.open(fileobj=outer.extractfile(member), mode='r|*') as layer:
                for e in layer:
                    entries += 1
                    base = os.path.basename(e.name)
                    if base == '.wh..wh..opq':
                        opaque += 1
                    elif base.startswith('.wh.'):
                        whiteouts += 1
                    elif e.isfile():
                        files += 1
            layers.append({'bytes': member.size, 'entries': entries, 'files': files,
                           'whiteouts': whiteouts, 'opaque': opaque})
    print(json.dumps({
        'path': path,
        'bytes': os.path.getsize(path),
        'repoTags': manifest.get('RepoTags') or [],
        'layerCount': len(layers),
        'entriesInLayers': sum(l['entries'] for l in layers),
        'layers': layers,
    }))


main()
