#!/bin/sh
# Default command of the realistic e2e image: prove the user, the copied tree and the capability.
set -eu
echo "layerflat-ok $(id -un):$(id -gn) $(cat /opt/app/etc/app.conf | head -n 1)"
