#!/bin/sh
# layerflat launcher (bin/layerflat of the RHEL 7 tarball): runs the bundled CLI with the
# Node.js shipped beside it, wherever the tarball was unpacked and through any symlink to it.
self=$(readlink -f "$0") || exit 2
root=$(dirname "$(dirname "$self")")
exec "$root/node/bin/node" "$root/lib/layerflat.mjs" "$@"
