#!/usr/bin/env bash
# scripts/e2e/engine.sh — one small adapter per engine, so the round trip (roundtrip.sh) is written
# once for both: ENGINE is `docker` (private dockerd on vfs, scripts/engines.sh) or `podman`
# (rootless podman on vfs as $LF_ROOTLESS_USER, scripts/engines.sh).
#
# Rootless podman runs as another user: it gets archives on stdin and writes them to stdout (an
# inherited descriptor works; a path it must open itself, like /dev/stdout, does not), and exports
# go through podman_rootless_export.

# e2e_eng ENGINE ARGS... — the engine's command line.
e2e_eng() {
  local engine="$1"; shift
  case "$engine" in
    docker) lf_docker "$@" ;;
    podman) podman_rootless "$@" ;;
    *) echo "unknown engine $engine" >&2; return 2 ;;
  esac
}

# e2e_eng_title ENGINE — how the report names it.
e2e_eng_title() {
  case "$1" in
    docker) echo "docker" ;;
    podman) echo "rootless podman" ;;
  esac
}

# e2e_eng_load ENGINE [ARCHIVE] — `docker load` / `podman load` of a file, or of stdin.
e2e_eng_load() {
  if [ "$#" -gt 1 ]; then
    e2e_eng_load "$1" <"$2"
    return
  fi
  e2e_eng "$1" load
}

# e2e_eng_save ENGINE REF [FORMAT] — `docker save` / `podman save --format FORMAT` (default
# docker-archive; podman cannot write zstd layers into one, so those images need oci-archive).
e2e_eng_save() {
  case "$1" in
    docker) lf_docker save "$2" ;;
    podman) podman_rootless save --format "${3:-docker-archive}" "$2" ;;
  esac
}

# e2e_eng_export ENGINE CONTAINER OUT
e2e_eng_export() {
  case "$1" in
    docker) lf_docker export -o "$3" "$2" ;;
    podman) podman_rootless_export "$2" "$3" ;;
  esac
}

# e2e_eng_run ENGINE IMAGE [CMD...] — run once, no network, remove the container.
# (podman_rootless already passes --runtime runc: crun cannot set up the container here.)
e2e_eng_run() {
  local engine="$1"; shift
  e2e_eng "$engine" run --rm --network none "$@"
}

# e2e_eng_storage ENGINE — two directories: the vfs layer copies, and the whole storage root.
e2e_eng_storage() {
  case "$1" in
    docker) printf '%s %s\n' "$(lf_docker_dir)/data/vfs" "$(lf_docker_dir)/data" ;;
    podman) printf '%s %s\n' "$(lf_rootless_dir)/storage/vfs" "$(lf_rootless_dir)/storage" ;;
  esac
}

# e2e_eng_version ENGINE
e2e_eng_version() {
  case "$1" in
    docker) lf_docker version --format '{{.Server.Version}}' 2>/dev/null ;;
    podman) podman_rootless version --format '{{.Client.Version}}' 2>/dev/null ;;
  esac
}

# e2e_eng_clear ENGINE — remove every container and image of the (private) engine; fails if some
# remain. Docker refuses to remove a parent before its children even with -f, so remove the
# top-level images (which takes their untagged parents along) round by round.
e2e_eng_clear() {
  local engine="$1" ids round
  ids="$(e2e_eng "$engine" ps -aq)"
  # shellcheck disable=SC2086 # a list of ids
  [ -z "$ids" ] || e2e_eng "$engine" rm -f $ids >/dev/null
  for round in 1 2 3 4 5; do
    ids="$(e2e_eng "$engine" images -q | sort -u)"
    [ -n "$ids" ] || break
    # shellcheck disable=SC2086
    e2e_eng "$engine" rmi -f $ids >/dev/null || echo "round $round: some images could not be removed yet"
  done
  e2e_eng "$engine" images -a
  [ -z "$(e2e_eng "$engine" images -aq)" ]
}
