#!/usr/bin/env bash
# scripts/e2e/crafted/observe.sh OUTDIR CASE.tar... — what docker and rootless podman make of crafted
# archives (the experiment behind docs/engine-rules.md). For each archive and engine: load it
# (the load's output and exit status go to OUTDIR/CASE.ENGINE.load), create a container (not
# started), export it and list the export with full metadata (OUTDIR/CASE.ENGINE.export.txt,
# scripts/e2e/crafted/list-tar.py), then remove the container and the image.
# Needs the engines running (scripts/engines.sh: lf_docker_start, lf_rootless_setup) and
# LAYERFLAT_ENGINES_DIR set as when they were started. OBSERVE_ENGINES="docker podman" by default.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../../engines.sh
source "$here/../../engines.sh"
out="$1"; shift
mkdir -p "$out"
for tar in "$@"; do
  name="$(basename "$tar" .tar)"
  for engine in ${OBSERVE_ENGINES:-docker podman}; do
    case "$engine" in
      docker) eng() { lf_docker "$@"; }; ref="layerflat-crafted/$name:latest" ;;
      podman) eng() { podman_rootless "$@"; }; ref="localhost/layerflat-crafted/$name:latest" ;;
    esac
    ctr="observe-$name"
    rc=0; eng load <"$tar" >"$out/$name.$engine.load" 2>&1 || rc=$?
    echo "exit $rc" >>"$out/$name.$engine.load"
    rm -f "$out/$name.$engine.export.tar" "$out/$name.$engine.export.txt"
    if [ "$rc" = 0 ]; then
      if eng create --name "$ctr" "$ref" >"$out/$name.$engine.create" 2>&1; then
        case "$engine" in
          docker) lf_docker export -o "$out/$name.$engine.export.tar" "$ctr" ;;
          podman) podman_rootless_export "$ctr" "$out/$name.$engine.export.tar" ;;
        esac
        python3 "$here/list-tar.py" "$out/$name.$engine.export.tar" >"$out/$name.$engine.export.txt"
      fi
      eng rm -f "$ctr" >/dev/null 2>&1
    fi
    eng rmi -f "$ref" >/dev/null 2>&1
    printf '%-45s %-7s load exit %s %s\n' "$name" "$engine" "$rc" "$(grep -v '^exit ' "$out/$name.$engine.load" | tail -n 1 | cut -c1-200)"
  done
done
