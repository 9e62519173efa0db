#!/usr/bin/env bash
# scripts/e2e/daemon.sh — the docker-daemon: transport against the real dockerd of the suite
# (sourced by scripts/e2e/env.sh; LAYERFLAT_E2E_PARTS=daemon runs it alone, with dockerd only).
#
# layerflat talks to the daemon's socket itself (the Engine API, no docker CLI). A multi-layer
# image (the committed docker-rules fixture, 19 layers) is loaded and tagged $DMN_ORIG; then:
#   daemon → daemon, daemon → file, file → daemon: each flat image has 1 layer, the same Config,
#   and runs its command; `layerflat verify` of the original (by name and by short ID) against
#   the flat images exits 0; an existing tag is refused without --force and replaced (verified)
#   with it; --verify --compress gzip loads; a damaged archive streamed into the load makes
#   layerflat exit 2 and creates no image; a missing image and an unreachable socket exit 2 with
#   one line. Every image made here is removed at the end.
#
# Files live in $E2E_WORK/daemon/.

DMN_ORIG="layerflat-e2e/daemon:orig"
DMN_FLAT="layerflat-e2e/daemon:flat"
DMN_FROMFILE="layerflat-e2e/daemon:from-file"
DMN_GZIP="layerflat-e2e/daemon:gzip"
DMN_DAMAGED="layerflat-e2e/daemon:damaged"
DMN_FIXTURE_REF="layerflat-fixture/rules:docker"

dmn_dir() { echo "$E2E_WORK/daemon"; }
# dmn_layerflat ARGS... — the CLI with DOCKER_HOST at the suite's dockerd (or at $DMN_HOST).
dmn_layerflat() { DOCKER_HOST="${DMN_HOST:-unix://$(lf_docker_sock)}" layerflat "$@"; }
dmn_layers() { lf_docker image inspect --format '{{len .RootFS.Layers}}' "$1"; }
dmn_id() { lf_docker image inspect --format '{{.Id}}' "$1"; }

# dmn_load_original — the fixture loaded and tagged $DMN_ORIG (its own tag removed unless it was there).
dmn_load_original() {
  local had=0
  rm -rf "$(dmn_dir)" && mkdir -p "$(dmn_dir)"
  if lf_docker image inspect "$DMN_FIXTURE_REF" >/dev/null 2>&1; then had=1; fi
  lf_docker load -i "$E2E_ROOT/test/fixtures/docker-rules.tar"
  lf_docker tag "$DMN_FIXTURE_REF" "$DMN_ORIG"
  [ "$had" = 1 ] || lf_docker rmi "$DMN_FIXTURE_REF" >/dev/null
  echo "$DMN_ORIG: $(dmn_layers "$DMN_ORIG") layers"
  [ "$(dmn_layers "$DMN_ORIG")" -gt 1 ]
}

# dmn_flat_ok REF — 1 layer, the original's Config, and it runs its command.
dmn_flat_ok() {
  local ref="$1" out
  echo "$ref: $(dmn_layers "$ref") layer(s)"
  [ "$(dmn_layers "$ref")" = 1 ] || { echo "expected 1 layer"; return 1; }
  diff <(lf_docker image inspect --format '{{json .Config}}' "$DMN_ORIG") \
    <(lf_docker image inspect --format '{{json .Config}}' "$ref") || { echo "Config differs"; return 1; }
  out="$(lf_docker run --rm --network none "$ref")"
  echo "runs: $out"
  [ "$out" = layerflat-ok ]
}

dmn_daemon_to_daemon() {
  dmn_layerflat flatten "docker-daemon:$DMN_ORIG" "docker-daemon:$DMN_FLAT"
  dmn_flat_ok "$DMN_FLAT"
}

dmn_daemon_to_file() {
  local tar; tar="$(dmn_dir)/flat.tar"
  rm -f "$tar"
  dmn_layerflat flatten "docker-daemon:$DMN_ORIG" "$tar"
  tar -xOf "$tar" manifest.json
  echo
  [ "$(tar -xOf "$tar" manifest.json | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0))[0].Layers.length))')" = 1 ]
}

dmn_file_to_daemon() {
  dmn_layerflat flatten "$(dmn_dir)/flat.tar" "docker-daemon:$DMN_FROMFILE"
  dmn_flat_ok "$DMN_FROMFILE"
}

dmn_verify() {
  local short; short="$(dmn_id "$DMN_ORIG" | cut -c8-19)"
  dmn_layerflat verify "docker-daemon:$DMN_ORIG" "docker-daemon:$DMN_FLAT"
  dmn_layerflat verify "docker-daemon:$short" "docker-daemon:$DMN_FROMFILE"
}

# dmn_existing_tag — refused without --force (one DEST_EXISTS line, the tag unchanged), replaced
# with it, after a verification.
dmn_existing_tag() {
  local before rc=0 err; err="$(dmn_dir)/exists.err"
  before="$(dmn_id "$DMN_FLAT")"
  dmn_layerflat flatten "docker-daemon:$DMN_ORIG" "docker-daemon:$DMN_FLAT" 2>"$err" || rc=$?
  echo "without --force: exit $rc: $(cat "$err")"
  [ "$rc" = 2 ] && [ "$(wc -l <"$err")" = 1 ] && grep -q '^layerflat: error \[DEST_EXISTS\]' "$err" || return 1
  [ "$(dmn_id "$DMN_FLAT")" = "$before" ] || { echo "the tag was moved"; return 1; }
  dmn_layerflat flatten "docker-daemon:$DMN_ORIG" "docker-daemon:$DMN_FLAT" --force --json >"$(dmn_dir)/force.json"
  echo "with --force: verified=$(e2e_json "$(dmn_dir)/force.json" j.verified)"
  [ "$(e2e_json "$(dmn_dir)/force.json" j.verified)" = true ]
  dmn_flat_ok "$DMN_FLAT"
}

dmn_verify_gzip() {
  dmn_layerflat flatten "docker-daemon:$DMN_ORIG" "docker-daemon:$DMN_GZIP" --verify --compress gzip \
    --tmp-dir "$TMPDIR" --json >"$(dmn_dir)/gzip.json"
  [ "$(e2e_json "$(dmn_dir)/gzip.json" j.verified)" = true ]
  dmn_flat_ok "$DMN_GZIP"
}

# dmn_damaged_refused — a byte flipped in a classic layer (only its diff_id tells): the archive
# streams into the load before the check ends; layerflat must exit 2 and the daemon load nothing.
dmn_damaged_refused() {
  local d before after rc=0 err
  d="$(dmn_dir)/damaged"; err="$(dmn_dir)/damaged.err"
  rm -rf "$d"
  python3 "$E2E_ROOT/scripts/e2e/make-damaged.py" "$d" >/dev/null
  before="$(lf_docker images -aq --no-trunc | sort -u)"
  dmn_layerflat flatten "$d/classic.tar" "docker-daemon:$DMN_DAMAGED" 2>"$err" || rc=$?
  echo "exit $rc: $(cat "$err")"
  after="$(lf_docker images -aq --no-trunc | sort -u)"
  rm -rf "$d"
  [ "$rc" = 2 ] && [ "$(wc -l <"$err")" = 1 ] && grep -q '^layerflat: error \[DIGEST_MISMATCH\]' "$err" || return 1
  if lf_docker image inspect "$DMN_DAMAGED" >/dev/null 2>&1; then echo "$DMN_DAMAGED was created"; return 1; fi
  [ "$before" = "$after" ] || { printf 'images before:\n%s\nafter:\n%s\n' "$before" "$after"; return 1; }
}

# dmn_fails_one_line CODE CMD... — CMD (a layerflat run) exits 2 with one "[CODE]" line on stderr.
dmn_fails_one_line() { e2e_fails_one_line "$(dmn_dir)/fail.err" "$@"; }

dmn_missing_image() {
  dmn_fails_one_line NOT_FOUND dmn_layerflat flatten docker-daemon:layerflat-e2e/no-such:image "$(dmn_dir)/x.tar"
  [ ! -e "$(dmn_dir)/x.tar" ]
}

dmn_unreachable() {
  DMN_HOST="unix://$(dmn_dir)/no-such.sock" \
    dmn_fails_one_line IO dmn_layerflat verify "docker-daemon:$DMN_ORIG" "docker-daemon:$DMN_FLAT"
}

dmn_cleanup() {
  local ref
  for ref in "$DMN_ORIG" "$DMN_FLAT" "$DMN_FROMFILE" "$DMN_GZIP" "$DMN_DAMAGED"; do
    if lf_docker image inspect "$ref" >/dev/null 2>&1; then lf_docker rmi "$ref" >/dev/null; fi
  done
  lf_docker image prune -f >/dev/null # the images a --force retag left untagged
  rm -rf "$(dmn_dir)"
  lf_docker images
}

# e2e_daemon_cases — every check twice: with dist/ on the default Node, then with the RHEL 7
# tarball's launcher (the bundle on Node 16.20.2, whose node:http the transport must work with).
e2e_daemon_cases() {
  dmn_cases "docker-daemon: transport"
  local -x E2E_CLI="$E2E_TARBALL_CLI"
  dmn_cases "docker-daemon: transport (RHEL 7 tarball, Node 16)"
}

dmn_cases() {
  local t="$1"
  if [ "${E2E_DOCKER:-0}" = 0 ] || [ "${E2E_BUILT:-0}" = 0 ]; then
    e2e_not_run "$t" "dockerd is not running or layerflat is not built"
    return 0
  fi
  if ! e2e_check "$t: docker load the docker-rules fixture (19 layers) as $DMN_ORIG" dmn_load_original; then
    e2e_not_run "$t: the round trips" "no original image"
    return 0
  fi
  local d2d=0 f2d=0
  e2e_check "$t: flatten docker-daemon:ORIG docker-daemon:FLAT gives 1 layer, the same Config, and runs" \
    dmn_daemon_to_daemon && d2d=1
  e2e_check "$t: flatten docker-daemon:ORIG flat.tar writes a 1-layer archive" dmn_daemon_to_file &&
    e2e_check "$t: flatten flat.tar docker-daemon:FROM-FILE gives 1 layer, the same Config, and runs" \
      dmn_file_to_daemon && f2d=1
  if [ "$d2d$f2d" = 11 ]; then
    e2e_check "$t: verify docker-daemon:ORIG docker-daemon:FLAT (and ORIG by short ID, FROM-FILE) exits 0" \
      dmn_verify || true
  else
    e2e_not_run "$t: verify docker-daemon:ORIG docker-daemon:FLAT" "a flat image is missing"
  fi
  if [ "$d2d" = 1 ]; then
    e2e_check "$t: an existing tag is refused without --force, replaced (verified) with it" dmn_existing_tag || true
  fi
  e2e_check "$t: flatten --verify --compress gzip into the daemon (built in --tmp-dir, verified, loaded)" \
    dmn_verify_gzip || true
  e2e_check "$t: a damaged archive streamed into the load: exit 2, one DIGEST_MISMATCH line, no image" \
    dmn_damaged_refused || true
  e2e_check "$t: a missing image: exit 2, one NOT_FOUND line, nothing written" dmn_missing_image || true
  e2e_check "$t: an unreachable socket: exit 2, one IO line" dmn_unreachable || true
  e2e_check "$t: remove the images made here" dmn_cleanup || true
}
