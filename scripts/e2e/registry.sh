#!/usr/bin/env bash
# scripts/e2e/registry.sh — the docker:// transport against Debian's real docker-registry (CNCF
# distribution), started here on loopback (sourced by scripts/e2e/env.sh; part "registry").
#
# Three registries, each with its own storage under $E2E_WORK/registry:
#   TLS   https on 127.0.0.1:$RG_TLS, htpasswd users, a server certificate signed by a CA made here
#   TOKEN http on :$RG_TOKEN with `auth: token`, tokens from scripts/e2e/registry.mjs (RS256 JWTs;
#         lfuser may push lf/*, reader may only pull)
#   PLAIN http on :$RG_PLAIN, no auth; the fault proxy (registry.mjs proxy) sits in front of it
# skopeo pushes the docker-rules fixture (19 layers), the multi-platform OCI fixture (--all) and a
# two-layer image with 24 MiB of noise. Then layerflat flattens registry → registry (--verify),
# → docker-archive, → docker-daemon: and → podman: (rootless); skopeo reads the flat images back
# and `layerflat verify` checks them against the fixture; docker and rootless podman pull the
# original and the flat image, run it, and the exports of their containers are compared. Faults:
# 401 (wrong password), 403 (push with a pull-only token), 404, an unknown CA, a blob with one byte
# flipped (DIGEST_MISMATCH, nothing tagged), connections dropped mid-blob (resumed with Range), the
# registry killed and restarted mid-blob (resumed), HTTPS_PROXY through a CONNECT proxy. Each
# registry check runs again with the RHEL 7 tarball (Node 16.20.2).
#
# Everything started here is stopped by rg_cleanup (its pids are in $E2E_WORK/registry/pids).

RG_TLS=5160
RG_TOKEN=5161
RG_TOKEN_SERVER=5162
RG_PLAIN=5163
RG_PROXY=5164
RG_CONNECT=5165
RG_RULES_REF=layerflat-fixture/rules:docker

rg_dir() { echo "$E2E_WORK/registry"; }

# rg_bg NAME CMD... — CMD in the background in its own session, its pid in pids/NAME, its output
# in logs/NAME.log (appended: a restart keeps the earlier lines).
rg_bg() {
  local name="$1" d; d="$(rg_dir)"; shift
  mkdir -p "$d/pids" "$d/logs"
  setsid "$@" >>"$d/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$d/pids/$name"
}

# rg_kill NAME [SIGNAL] — stop what rg_bg started under NAME and wait until it is gone.
rg_kill() {
  local f pid i; f="$(rg_dir)/pids/$1"
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
}

# rg_wait_port PORT — until something listens there (10 s).
rg_wait_port() {
  local i
  for i in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1"
  return 1
}

# rg_config NAME PORT EXTRA_YAML — a registry config with its own storage.
rg_config() {
  local d; d="$(rg_dir)"
  mkdir -p "$d/$1"
  cat >"$d/$1.yml" <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $d/$1
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
  secret: layerflat-e2e
$3
YAML
}

rg_start_registry() { rg_bg "$1" docker-registry serve "$(rg_dir)/$1.yml" && rg_wait_port "$2"; }

# rg_setup — the CA and certificates, the users, the three registries and the token server.
rg_setup() {
  local d; d="$(rg_dir)"
  rm -rf "$d" && mkdir -p "$d/certs" "$d/ca"
  command -v docker-registry && command -v htpasswd && command -v openssl && command -v skopeo
  (
    cd "$d/ca"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=layerflat-e2e-ca -keyout ca.key -out ca.crt
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lf-token -keyout token.key -out token.crt
  ) 2>&1 | grep -v '^[.+*]*$' || true
  cp "$d/ca/ca.crt" "$d/certs/ca.crt" # a --cert-dir: the CA only
  htpasswd -Bbn lfuser lfpass >"$d/htpasswd"
  rg_config tls "$RG_TLS" "  tls:
    certificate: $d/ca/server.crt
    key: $d/ca/server.key
auth:
  htpasswd:
    realm: layerflat-e2e
    path: $d/htpasswd"
  rg_config token "$RG_TOKEN" "auth:
  token:
    realm: http://127.0.0.1:$RG_TOKEN_SERVER/token
    service: layerflat-e2e
    issuer: lf-token
    rootcertbundle: $d/ca/token.crt"
  rg_config plain "$RG_PLAIN" ""
  rg_start_registry tls "$RG_TLS"
  rg_start_registry token "$RG_TOKEN"
  rg_start_registry plain "$RG_PLAIN"
  rg_bg token-server node "$E2E_ROOT/scripts/e2e/registry.mjs" token "$RG_TOKEN_SERVER" \
    "$d/ca/token.key" "$d/ca/token.crt" "$d/logs/tokens.log"
  rg_wait_port "$RG_TOKEN_SERVER"
  curl -sS --cacert "$d/ca/ca.crt" -u lfuser:lfpass "https://127.0.0.1:$RG_TLS/v2/" && echo
  curl -sS -o /dev/null -w 'token registry /v2/ without a token: %{http_code}\n' "http://127.0.0.1:$RG_TOKEN/v2/"
}

# skopeo against each registry (its own flags: credentials, CA, plain http)
rg_skopeo_tls() { skopeo "$1" --"${2}"-cert-dir "$(rg_dir)/certs" --"${2}"-creds lfuser:lfpass "${@:3}"; }

# rg_push_fixtures — the fixtures into each registry, by skopeo.
rg_push_fixtures() {
  local fix="$E2E_ROOT/test/fixtures" d; d="$(rg_dir)"
  python3 "$E2E_ROOT/scripts/e2e/make-damaged.py" "$d/noise" >/dev/null
  skopeo copy --dest-tls-verify=false "docker-archive:$fix/docker-rules.tar" "docker://127.0.0.1:$RG_PLAIN/lf/rules:orig"
  skopeo copy --dest-tls-verify=false "docker-archive:$d/noise/good.tar" "docker://127.0.0.1:$RG_PLAIN/lf/noise:orig"
  skopeo copy --all --dest-tls-verify=false "oci:$fix/oci-multiarch:multi" "docker://127.0.0.1:$RG_PLAIN/lf/multi:orig"
  skopeo copy --dest-cert-dir "$d/certs" --dest-creds lfuser:lfpass \
    "docker-archive:$fix/docker-rules.tar" "docker://127.0.0.1:$RG_TLS/lf/rules:orig"
  skopeo copy --dest-tls-verify=false --dest-creds lfuser:lfpass \
    "docker-archive:$fix/docker-rules.tar" "docker://127.0.0.1:$RG_TOKEN/lf/rules:orig"
  skopeo inspect --tls-verify=false "docker://127.0.0.1:$RG_PLAIN/lf/rules:orig" --format '{{len .Layers}} layers'
}

# rg_layers SKOPEO_ARGS... REF — the layer count skopeo sees.
rg_layers() { skopeo inspect "$@" --format '{{len .Layers}}'; }

# rg_same_config A_ARGS… -- B_ARGS… — the Config of two images as skopeo reads them.
rg_config_of() { skopeo inspect --config "$@" | node -e 'const j = JSON.parse(require("fs").readFileSync(0)); process.stdout.write(JSON.stringify(j.config))'; }

# rg_check_copy NAME SKOPEO_ARGS... REF — skopeo copies REF to an oci-archive (every blob checked
# by skopeo too); `layerflat verify` of the fixture against it exits 0; it has 1 layer and the
# fixture's Config.
rg_check_copy() {
  local name="$1" d; d="$(rg_dir)"; shift
  local ref="${*: -1}" args=("${@:1:$#-1}")
  rm -f "$d/$name.oci.tar"
  skopeo copy "${args[@]/#--/--src-}" "$ref" "oci-archive:$d/$name.oci.tar"
  echo "$ref: $(rg_layers "${args[@]}" "$ref") layer(s)"
  [ "$(rg_layers "${args[@]}" "$ref")" = 1 ]
  layerflat verify "$E2E_ROOT/test/fixtures/docker-rules.tar" "oci-archive:$d/$name.oci.tar"
  diff <(rg_config_of --tls-verify=false "docker://127.0.0.1:$RG_PLAIN/lf/rules:orig") <(rg_config_of "${args[@]}" "$ref")
}

rg_tls_to_tls() {
  local d; d="$(rg_dir)"
  layerflat flatten "docker://127.0.0.1:$RG_TLS/lf/rules:orig" "docker://127.0.0.1:$RG_TLS/lf/rules:flat${RG_SUFFIX:-}" \
    --cert-dir "$d/certs" --creds lfuser:lfpass --verify --json >"$d/tls.json"
  echo "verified: $(e2e_json "$d/tls.json" j.verified)"
  [ "$(e2e_json "$d/tls.json" j.verified)" = true ]
  rg_check_copy tls --cert-dir "$d/certs" --creds lfuser:lfpass "docker://127.0.0.1:$RG_TLS/lf/rules:flat${RG_SUFFIX:-}"
}

rg_plain_to_plain() {
  layerflat flatten "docker://127.0.0.1:$RG_PLAIN/lf/rules:orig" "docker://127.0.0.1:$RG_PLAIN/lf/rules:flat${RG_SUFFIX:-}" \
    --tls-verify=false --verify
  rg_check_copy plain --tls-verify=false "docker://127.0.0.1:$RG_PLAIN/lf/rules:flat${RG_SUFFIX:-}"
}

rg_to_archive() {
  local d; d="$(rg_dir)"
  rm -f "$d/flat.tar"
  layerflat flatten "docker://127.0.0.1:$RG_TLS/lf/rules:orig" "$d/flat.tar" --cert-dir "$d/certs" --creds lfuser:lfpass
  layerflat verify "$E2E_ROOT/test/fixtures/docker-rules.tar" "$d/flat.tar"
  [ "$(tar -xOf "$d/flat.tar" manifest.json | node -p 'JSON.parse(require("fs").readFileSync(0))[0].Layers.length')" = 1 ]
}

rg_to_daemon() {
  local ref="layerflat-e2e/registry:flat${RG_SUFFIX:-}" out
  DOCKER_HOST="unix://$(lf_docker_sock)" layerflat flatten "docker://127.0.0.1:$RG_PLAIN/lf/rules:orig" "docker-daemon:$ref" \
    --tls-verify=false
  out="$(lf_docker run --rm --network none "$ref")"
  echo "runs: $out"
  [ "$out" = layerflat-ok ]
  DOCKER_HOST="unix://$(lf_docker_sock)" layerflat verify "$E2E_ROOT/test/fixtures/docker-rules.tar" "docker-daemon:$ref"
  lf_docker rmi "$ref"
}

# rg_export ENGINE REF OUT — a container of REF exported by ENGINE to OUT.
rg_export() {
  local c; c="$(e2e_eng "$1" create "$2")"
  e2e_eng_export "$1" "$c" "$3"
  e2e_eng "$1" rm "$c" >/dev/null
}

# rg_podman_program — a podman for layerflat's --podman: the suite's rootless podman store.
rg_podman_program() {
  local f r; f="$(rg_dir)/podman-rootless"; r="$(lf_rootless_dir)"
  cat >"$f" <<SH
#!/bin/sh
exec podman --storage-driver vfs --root "$r/storage" --runroot "$r/runroot" --tmpdir "$r/tmp" \
  --cgroup-manager cgroupfs --events-backend file --runtime runc "\$@"
SH
  chmod 0755 "$(rg_dir)" "$f"
  echo "$f"
}

# rg_user_layerflat ARGS... — the CLI under test as the rootless user (as a RHEL 7 user runs it).
rg_user_layerflat() {
  local r home; r="$(lf_rootless_dir)"
  home="$(getent passwd "$LF_ROOTLESS_USER" | cut -d: -f6)"
  local -a cli=(node "$E2E_ROOT/dist/cli/main.js")
  [ -z "${E2E_CLI:-}" ] || cli=("$E2E_CLI")
  (cd / && runuser -u "$LF_ROOTLESS_USER" -- env -i HOME="$home" USER="$LF_ROOTLESS_USER" \
    PATH="$(dirname "$(command -v node)"):/usr/local/bin:/usr/bin:/bin" XDG_RUNTIME_DIR="$r/run" TMPDIR="$r/tmp" \
    "${cli[@]}" "$@")
}

# rg_engine_pull ENGINE — ENGINE pulls the original and the flat OCI manifest from the plain
# registry (docker trusts 127.0.0.0/8 over http by default); for podman, layerflat also flattens
# the registry image into podman's storage (podman: sink). Each flat image has 1 layer, runs its
# command, and a container of it exports the same filesystem as one of the original
# (scripts/e2e/verify-exports.mjs: for docker, only the mtimes docker stamps on what it adds).
rg_engine_pull() {
  local engine="$1" d orig="127.0.0.1:$RG_PLAIN/lf/rules:orig" flat="127.0.0.1:$RG_PLAIN/lf/rules:flat" ref out
  local -a flats=("$flat")
  d="$(rg_dir)"
  if [ "$engine" = docker ]; then
    lf_docker pull -q "$orig"
    lf_docker pull -q "$flat"
  else
    podman_rootless pull -q --tls-verify=false "docker://$orig"
    podman_rootless pull -q --tls-verify=false "docker://$flat"
    rg_user_layerflat flatten "docker://$orig" podman:localhost/lf-e2e/rules:from-registry --tls-verify=false \
      --podman "$(rg_podman_program)"
    flats+=(localhost/lf-e2e/rules:from-registry)
  fi
  rg_export "$engine" "$orig" "$d/$engine-orig-export.tar"
  for ref in "${flats[@]}"; do
    echo "$ref: $(e2e_eng "$engine" image inspect --format '{{len .RootFS.Layers}}' "$ref") layer(s)"
    [ "$(e2e_eng "$engine" image inspect --format '{{len .RootFS.Layers}}' "$ref")" = 1 ]
    out="$(e2e_eng_run "$engine" "$ref")"
    echo "runs: $out"
    [ "$out" = layerflat-ok ]
    rg_export "$engine" "$ref" "$d/$engine-flat-export.tar"
    node "$E2E_ROOT/scripts/e2e/verify-exports.mjs" "$engine" "$d/$engine-orig-export.tar" "$d/$engine-flat-export.tar"
  done
  e2e_eng "$engine" rmi "$orig" "${flats[@]}"
}

# rg_token_creds — token auth (Bearer realm/service/scope) with --creds: push scope granted, the
# flat image verified.
rg_token_creds() {
  local d; d="$(rg_dir)"
  : >"$d/logs/tokens.log"
  layerflat flatten "docker://127.0.0.1:$RG_TOKEN/lf/rules:orig" "docker://127.0.0.1:$RG_TOKEN/lf/rules:flat${RG_SUFFIX:-}" \
    --tls-verify=false --creds lfuser:lfpass --verify
  cat "$d/logs/tokens.log"
  grep -q 'token lfuser .*"lf/rules".*"push"' "$d/logs/tokens.log"
  rg_check_copy token --tls-verify=false --creds lfuser:lfpass "docker://127.0.0.1:$RG_TOKEN/lf/rules:flat${RG_SUFFIX:-}"
}

# rg_auth_file USER PASS — an auth.json for the token registry, as `podman login` writes it.
rg_auth_file() {
  printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}\n' "$RG_TOKEN" "$(printf '%s:%s' "$1" "$2" | base64 -w0)" >"$(rg_dir)/auth.json"
}

rg_token_authfile() {
  rg_auth_file lfuser lfpass
  REGISTRY_AUTH_FILE="$(rg_dir)/auth.json" layerflat flatten "docker://127.0.0.1:$RG_TOKEN/lf/rules:orig" \
    "docker://127.0.0.1:$RG_TOKEN/lf/rules:authfile${RG_SUFFIX:-}" --tls-verify=false
  [ "$(rg_layers --tls-verify=false --creds lfuser:lfpass "docker://127.0.0.1:$RG_TOKEN/lf/rules:authfile${RG_SUFFIX:-}")" = 1 ]
}

# rg_fails CODE CMD... — CMD exits 2 with one "[CODE]" line on stderr.
rg_fails() { e2e_fails_one_line "$(rg_dir)/fail.err" "$@"; }

# rg_absent SKOPEO_ARGS… REF — the tag is not there.
rg_absent() {
  if skopeo inspect "$@" >/dev/null 2>&1; then echo "${*: -1} exists"; return 1; fi
  echo "${*: -1}: absent, as it must be"
}

rg_reader_push() {
  rg_auth_file reader readerpass
  REGISTRY_AUTH_FILE="$(rg_dir)/auth.json" rg_fails AUTH_FAILED layerflat flatten \
    "docker://127.0.0.1:$RG_TOKEN/lf/rules:orig" "docker://127.0.0.1:$RG_TOKEN/lf/rules:reader${RG_SUFFIX:-}" --tls-verify=false
  grep -q 'access denied\|refused' "$(rg_dir)/fail.err"
  rg_absent --tls-verify=false --creds lfuser:lfpass "docker://127.0.0.1:$RG_TOKEN/lf/rules:reader${RG_SUFFIX:-}"
}

rg_wrong_password() {
  local d; d="$(rg_dir)"
  rg_fails AUTH_FAILED layerflat inspect "docker://127.0.0.1:$RG_TLS/lf/rules:orig" --cert-dir "$d/certs" --creds lfuser:nope
  rg_fails AUTH_FAILED layerflat inspect "docker://127.0.0.1:$RG_TOKEN/lf/rules:orig" --tls-verify=false --creds lfuser:nope
  rg_fails AUTH_FAILED layerflat inspect "docker://127.0.0.1:$RG_TLS/lf/rules:orig" --cert-dir "$d/certs" \
    --authfile /dev/null
}

rg_missing() {
  rg_fails REF_NOT_FOUND layerflat flatten "docker://127.0.0.1:$RG_PLAIN/lf/rules:no-such-tag" "$(rg_dir)/x.tar" --tls-verify=false
  [ ! -e "$(rg_dir)/x.tar" ]
}

rg_unknown_ca() {
  rg_fails IO layerflat inspect "docker://127.0.0.1:$RG_TLS/lf/rules:orig" --creds lfuser:lfpass
  grep -q 'cert-dir' "$(rg_dir)/fail.err"
}

# rg_proxy MODE — the fault proxy in front of the plain registry, in MODE.
rg_proxy() {
  rg_kill proxy
  : >"$(rg_dir)/logs/proxy-events.log"
  rg_bg proxy env RG_SLOW_RATE="${RG_SLOW_RATE:-}" node "$E2E_ROOT/scripts/e2e/registry.mjs" proxy "$RG_PROXY" "$RG_PLAIN" "$1" \
    "$(rg_dir)/logs/proxy-events.log"
  rg_wait_port "$RG_PROXY"
}

rg_corrupt() {
  local d; d="$(rg_dir)"
  rg_proxy corrupt
  rg_fails DIGEST_MISMATCH layerflat flatten "docker://127.0.0.1:$RG_PROXY/lf/noise:orig" \
    "docker://127.0.0.1:$RG_PLAIN/lf/noise:corrupt${RG_SUFFIX:-}" --tls-verify=false
  cat "$d/logs/proxy-events.log"
  grep -q 'flipped one byte' "$d/logs/proxy-events.log"
  rg_absent --tls-verify=false "docker://127.0.0.1:$RG_PLAIN/lf/noise:corrupt${RG_SUFFIX:-}"
  rg_kill proxy
}

rg_drop() {
  local d; d="$(rg_dir)"
  rg_proxy drop
  layerflat flatten "docker://127.0.0.1:$RG_PROXY/lf/noise:orig" "$d/noise-drop.tar" --tls-verify=false
  cat "$d/logs/proxy-events.log"
  [ "$(grep -c '^.* dropped blob' "$d/logs/proxy-events.log")" = 2 ]
  grep -q 'bytes=' "$d/logs/proxy-events.log" # the retries asked for the rest only
  layerflat verify "$d/noise/good.tar" "$d/noise-drop.tar"
  rm -f "$d/noise-drop.tar"
  rg_kill proxy
}

# rg_restart — blobs slowed to 2 MiB/s; the registry is killed 3 s in and started again 2 s later:
# the read in flight fails, layerflat retries with Range until the registry is back.
rg_restart() {
  local d pid rc=0; d="$(rg_dir)"
  RG_SLOW_RATE=$((2 << 20)) rg_proxy slow
  rm -f "$d/noise-restart.tar"
  layerflat flatten "docker://127.0.0.1:$RG_PROXY/lf/noise:orig" "$d/noise-restart.tar" --tls-verify=false &
  pid=$!
  sleep 3
  rg_kill plain KILL
  echo "registry killed at $(date +%T.%N)"
  sleep 2
  rg_start_registry plain "$RG_PLAIN"
  echo "registry back at $(date +%T.%N)"
  wait "$pid" || rc=$?
  cat "$d/logs/proxy-events.log"
  echo "layerflat exit $rc"
  [ "$rc" = 0 ]
  grep -q 'bytes=[1-9]' "$d/logs/proxy-events.log"
  layerflat verify "$d/noise/good.tar" "$d/noise-restart.tar"
  rm -f "$d/noise-restart.tar"
  rg_kill proxy
}

# rg_slow_upload — a flat layer of 24 MiB of noise pushed at 512 KiB/s: a PATCH of about 48 s,
# longer than any connect timeout, must go through.
rg_slow_upload() {
  local d; d="$(rg_dir)"
  RG_SLOW_RATE=$((512 << 10)) rg_proxy slowup
  layerflat flatten "docker://127.0.0.1:$RG_PLAIN/lf/noise:orig" "docker://127.0.0.1:$RG_PROXY/lf/noise:slow${RG_SUFFIX:-}" \
    --tls-verify=false --compress none
  cat "$d/logs/proxy-events.log"
  grep -q 'PATCH of' "$d/logs/proxy-events.log"
  rm -f "$d/noise-slow.tar"
  skopeo copy --src-tls-verify=false "docker://127.0.0.1:$RG_PLAIN/lf/noise:slow${RG_SUFFIX:-}" "docker-archive:$d/noise-slow.tar"
  layerflat verify "$d/noise/good.tar" "$d/noise-slow.tar"
  rm -f "$d/noise-slow.tar"
  rg_kill proxy
}

# rg_platform — one platform of the multi-platform index, as `verify --platform` reads the fixture.
rg_platform() {
  local d; d="$(rg_dir)"
  layerflat flatten "docker://127.0.0.1:$RG_PLAIN/lf/multi:orig" "$d/arm64.tar" --tls-verify=false --platform linux/arm64
  layerflat verify "oci:$E2E_ROOT/test/fixtures/oci-multiarch:multi" "$d/arm64.tar" --platform linux/arm64
  tar -xOf "$d/arm64.tar" "$(tar -xOf "$d/arm64.tar" manifest.json | node -p 'JSON.parse(require("fs").readFileSync(0))[0].Config')" |
    node -e 'const c = JSON.parse(require("fs").readFileSync(0)); console.log(c.os, c.architecture); if (c.architecture !== "arm64") process.exit(1)'
  rm -f "$d/arm64.tar"
}

# rg_https_proxy — HTTPS_PROXY through a CONNECT-only proxy: the tunnel is logged and the TLS
# registry still verified with the CA (NO_PROXY set empty so loopback is not exempt).
rg_https_proxy() {
  local d; d="$(rg_dir)"
  rg_kill connect
  : >"$d/logs/connect-events.log"
  rg_bg connect node "$E2E_ROOT/scripts/e2e/registry.mjs" connect "$RG_CONNECT" "$d/logs/connect-events.log"
  rg_wait_port "$RG_CONNECT"
  HTTPS_PROXY="http://127.0.0.1:$RG_CONNECT" NO_PROXY='' no_proxy='' layerflat inspect \
    "docker://127.0.0.1:$RG_TLS/lf/rules:orig" --cert-dir "$d/certs" --creds lfuser:lfpass --json >"$d/proxy-inspect.json"
  cat "$d/logs/connect-events.log"
  grep -q "CONNECT 127.0.0.1:$RG_TLS" "$d/logs/connect-events.log"
  echo "layers: $(e2e_json "$d/proxy-inspect.json" 'j.layers.length')"
  rg_kill connect
}

rg_cleanup() {
  local f
  for f in "$(rg_dir)"/pids/*; do [ -e "$f" ] && rg_kill "$(basename "$f")"; done
  if [ "${E2E_DOCKER:-0}" = 1 ]; then lf_docker image prune -f >/dev/null; fi
  du -sh "$(rg_dir)"
  rm -rf "$(rg_dir)"
}

rg_cases() {
  local t="$1"
  e2e_check "$t: registry → registry over TLS + htpasswd (--cert-dir, --creds, --verify): 1 layer, the fixture's filesystem and Config (skopeo reads it back)" rg_tls_to_tls || true
  e2e_check "$t: registry → registry over plain http (--tls-verify=false, --verify)" rg_plain_to_plain || true
  e2e_check "$t: registry → docker-archive: the fixture's filesystem, 1 layer" rg_to_archive || true
  if [ "${E2E_DOCKER:-0}" = 1 ]; then
    e2e_check "$t: registry → docker-daemon: runs its command, verify against the fixture exits 0" rg_to_daemon || true
  else
    e2e_not_run "$t: registry → docker-daemon:" "dockerd is not running"
  fi
  e2e_check "$t: token auth (Bearer realm/service/scope) with --creds: push granted, verified, the fixture's filesystem" rg_token_creds || true
  e2e_check "$t: token auth with REGISTRY_AUTH_FILE (an auth.json as podman login writes it)" rg_token_authfile || true
  e2e_check "$t: a pull-only token: the push refused (403) with one AUTH_FAILED line, exit 2, nothing tagged" rg_reader_push || true
  e2e_check "$t: a wrong password (htpasswd and token) and no credentials: one AUTH_FAILED line, exit 2" rg_wrong_password || true
  e2e_check "$t: a missing tag: one REF_NOT_FOUND line, exit 2, nothing written" rg_missing || true
  e2e_check "$t: a certificate from an unknown CA: one line naming --cert-dir, exit 2" rg_unknown_ca || true
  e2e_check "$t: a blob served with one byte flipped (proxy): one DIGEST_MISMATCH line, exit 2, nothing tagged" rg_corrupt || true
  e2e_check "$t: two connections dropped mid-blob (proxy): resumed with Range, the same filesystem" rg_drop || true
  e2e_check "$t: the registry killed and restarted mid-blob: resumed, exit 0, the same filesystem" rg_restart || true
  if [ -z "${RG_SUFFIX:-}" ]; then # once: it takes about 50 s
    e2e_check "$t: a push slower than any timeout (a 48 s PATCH through a throttling proxy) goes through" rg_slow_upload || true
  fi
  e2e_check "$t: --platform linux/arm64 from a multi-platform index pushed by skopeo --all" rg_platform || true
  e2e_check "$t: HTTPS_PROXY through a CONNECT proxy (the tunnel logged, TLS checked with the CA)" rg_https_proxy || true
}

e2e_registry_cases() {
  local t="docker:// registry"
  if [ "${E2E_BUILT:-0}" = 0 ]; then
    e2e_not_run "$t" "layerflat is not built"
    return 0
  fi
  if ! e2e_check "$t: docker-registry started three times on loopback (TLS + htpasswd with a CA made here, token auth, plain) and a token server" rg_setup; then
    e2e_not_run "$t: every check" "the registries did not start"
    e2e_check "$t: stop the registries and remove their storage" rg_cleanup || true
    return 0
  fi
  if e2e_check "$t: skopeo pushes the fixtures (docker-rules, 24 MiB of noise, the multi-platform OCI index with --all)" rg_push_fixtures; then
    rg_cases "$t"
    local eng
    for eng in docker podman; do
      local ok=E2E_${eng^^}
      if [ "${!ok:-0}" = 1 ]; then
        e2e_check "$t: $eng pulls the original and the flat OCI manifest$([ "$eng" = podman ] && echo ', layerflat flattens into podman:'); each flat image runs, its export equals the original's" \
          rg_engine_pull "$eng" || true
      else
        e2e_not_run "$t: $eng pulls the flat image" "$eng is not running"
      fi
    done
    local -x E2E_CLI="$E2E_TARBALL_CLI" RG_SUFFIX=-node16
    rg_cases "$t (RHEL 7 tarball, Node 16)"
  else
    e2e_not_run "$t: every check" "skopeo could not push the fixtures"
  fi
  e2e_check "$t: stop the registries and remove their storage" rg_cleanup || true
}
