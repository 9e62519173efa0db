#!/usr/bin/env bash
# scripts/e2e/setup.sh — the steps before the round trips: tools, the build of layerflat, the
# engines, and the realistic image (test/e2e/realistic/Dockerfile) built by dockerd on vfs.

E2E_BASE_REF="layerflat-base:bookworm"
E2E_REALISTIC_REF="layerflat-e2e/realistic:latest"

# e2e_install — what the suite needs and this machine lacks (Debian packages).
e2e_install() {
  lf_need_cmd dockerd docker.io
  lf_need_cmd "$LF_DOCKER_BIN" docker.io
  lf_need_cmd podman podman
  lf_need_cmd newuidmap uidmap
  lf_need_cmd runc runc
  lf_need_cmd skopeo skopeo
  lf_need_cmd debootstrap debootstrap
  lf_need_cmd zstd zstd
  lf_need_cmd numfmt coreutils
  lf_need_cmd docker-registry docker-registry
  lf_need_cmd htpasswd apache2-utils
  lf_need_cmd openssl openssl
  lf_need_cmd curl curl
  lf_need_cmd setfattr attr
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are needed (Node >= 20)"
    return 1
  fi
  node --version; "$LF_DOCKER_BIN" --version; podman --version; skopeo --version
}

# e2e_build — build layerflat if dist/ is missing.
e2e_build() {
  cd "$E2E_ROOT" || return 1
  if [ -f dist/cli/main.js ]; then
    echo "dist/ exists: not rebuilding"
  else
    [ -d node_modules ] || npm ci --no-audit --no-fund
    npm run build
  fi
  layerflat --version
}

# e2e_unpack_tarball — build the RHEL 7 tarball (npm run package: the bundle and Node 16.20.2)
# and unpack it where the round trips run its launcher ($E2E_TARBALL_CLI).
e2e_unpack_tarball() {
  cd "$E2E_ROOT" || return 1
  bash scripts/package-rhel7.sh
  rm -rf "$E2E_WORK/rhel7" && mkdir -p "$E2E_WORK/rhel7"
  tar -xzf "dist/layerflat-$(node -p 'require("./package.json").version')-linux-x64.tar.gz" -C "$E2E_WORK/rhel7"
  "$E2E_TARBALL_CLI" --version
  "$(dirname "$E2E_TARBALL_CLI")/../node/bin/node" --version
}

e2e_start_docker() {
  lf_docker_start
  lf_docker info --format '{{.Driver}} {{.DockerRootDir}} {{.ServerVersion}}'
  [ "$(lf_docker info --format '{{.Driver}}')" = vfs ] || { echo "dockerd is not on vfs"; return 1; }
}

e2e_start_podman() {
  lf_rootless_setup
  podman_rootless info --format '{{.Store.GraphDriverName}} {{.Store.GraphRoot}} {{.Host.Security.Rootless}}'
  [ "$(podman_rootless info --format '{{.Store.GraphDriverName}}')" = vfs ] || { echo "podman is not on vfs"; return 1; }
  [ "$(podman_rootless info --format '{{.Host.Security.Rootless}}')" = true ] || { echo "podman is not rootless"; return 1; }
}

# e2e_import_base — scripts/debian-base.sh's rootfs tar as $E2E_BASE_REF; "/" must be 0755 so
# that non-root users in the image can run anything.
e2e_import_base() {
  local tar
  tar="$(bash "$E2E_ROOT/scripts/debian-base.sh")"
  ls -l "$tar"
  lf_docker import "$tar" "$E2E_BASE_REF"
  [ "$(lf_docker run --rm --network none --user 65534 "$E2E_BASE_REF" stat -c %a /)" = 755 ]
}

e2e_build_realistic() {
  lf_docker build --network host -t "$E2E_REALISTIC_REF" "$E2E_ROOT/test/e2e/realistic"
  lf_docker image inspect --format 'layers: {{len .RootFS.Layers}}  size: {{.Size}}' "$E2E_REALISTIC_REF"
}

# e2e_save_realistic OUT — docker save, then remove the build (image, its parents, the base) so
# that the round trip measures the load of the saved image alone.
e2e_save_realistic() {
  lf_docker save -o "$1" "$E2E_REALISTIC_REF"
  ls -l "$1"
  lf_docker rmi "$E2E_REALISTIC_REF" "$E2E_BASE_REF"
  e2e_eng_clear docker
  [ -z "$(lf_docker images -aq)" ]
}

# e2e_oci_to_docker_archive LAYOUT_REF OUT NAME — skopeo's docker-archive of an OCI fixture, which
# docker 20.10 cannot load itself (skopeo refuses zstd layers here, so use the gzip layout).
e2e_oci_to_docker_archive() {
  rm -f "$2"
  skopeo copy -q "$1" "docker-archive:$2:$3"
  ls -l "$2"
}

# e2e_layout_to_oci_archive DIR OUT — an OCI layout directory as an oci-archive, for `podman load`.
e2e_layout_to_oci_archive() {
  tar --numeric-owner -C "$1" -cf "$2" .
  ls -l "$2"
}

# e2e_df — free disk (vfs copies the whole tree per layer), as diagnostic lines.
e2e_df() {
  local d=/
  [ ! -d "$LF_ENGINES_DIR" ] || d="$LF_ENGINES_DIR"
  { df -h "$d" || true; } | e2e_diag
}
