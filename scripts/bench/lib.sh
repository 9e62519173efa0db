#!/usr/bin/env bash
# scripts/bench/lib.sh — measuring helpers for scripts/bench.sh and scripts/bench/registry.sh (sourced).
#
#   bench_measure NAME [--watch DIR]... [--hwm-pid PID]... -- CMD [ARGS...]
#
# Runs CMD under `/usr/bin/time -v` (peak RSS of the largest process it waited for) after
# dropping the page cache (when LF_BENCH_DROP_CACHES=1), while a sampler records every 0.5 s (or
# $BENCH_SAMPLE_S) the summed `du -sb` of each --watch DIR and the used bytes of the filesystem holding BENCH_DIR.
# --hwm-pid PID: a daemon doing the work for CMD (dockerd); its peak RSS (VmHWM) is reset before
# and read after. Appends one JSON line to $BENCH_RESULTS; CMD's stdout goes to
# $BENCH_DIR/NAME.out, stderr and time -v's report to NAME.err / NAME.time.
set -euo pipefail

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

bench_drop_caches() {
  sync
  if [ "${LF_BENCH_DROP_CACHES:-1}" = 1 ] && [ -w /proc/sys/vm/drop_caches ]; then
    echo 3 >/proc/sys/vm/drop_caches
  fi
}

# bytes used on the filesystem holding $1
_bench_fs_used() { df --output=used -B1 "$1" | tail -1 | tr -d ' '; }

# _bench_sampler OUTFILE DIR... — until killed, keep "max_fs_used max_dir1 max_dir2 ..." in OUTFILE
_bench_sampler() {
  local out="$1"; shift
  local max_fs=0 fs d s i
  local -a max_w=()
  for d in "$@"; do max_w+=(0); done
  while :; do
    i=0
    for d in "$@"; do
      s=0
      [ -e "$d" ] && s=$(du -sb "$d" 2>/dev/null | cut -f1 || true)
      [ "${s:-0}" -gt "${max_w[$i]}" ] && max_w[$i]=$s
      i=$((i + 1))
    done
    fs=$(_bench_fs_used "$BENCH_DIR")
    [ "$fs" -gt "$max_fs" ] && max_fs=$fs
    printf '%s %s\n' "$max_fs" "${max_w[*]}" >"$out.tmp" && mv -f "$out.tmp" "$out"
    sleep "${BENCH_SAMPLE_S:-0.5}"
  done
}

# _bench_json ARGS... — the arguments as a JSON array of strings
_bench_json() { node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- "$@"; }

_bench_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

bench_measure() {
  local name="$1"; shift
  local watch=() hwm_pids=()
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --watch) watch+=("$2"); shift 2 ;;
      --hwm-pid) hwm_pids+=("$2"); shift 2 ;;
      --) shift; break ;;
      *) echo "bench_measure: bad option $1" >&2; return 2 ;;
    esac
  done
  local base="$BENCH_DIR/$name" p
  bench_drop_caches
  for p in "${hwm_pids[@]}"; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done
  local fs0; fs0=$(_bench_fs_used "$BENCH_DIR")
  local load0; load0=$(cut -d' ' -f1 /proc/loadavg)
  _bench_sampler "$base.samples" "${watch[@]}" &
  local sampler=$!
  bench_log "$name: $*"
  local rc=0 t0 t1 rest
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$base.time" "$@" >"$base.out" 2>"$base.err" || rc=$?
  t1=$(date +%s.%N)
  sleep 0.6   # one more sample after the end
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  local max_fs max_w=()
  read -r max_fs rest <"$base.samples" || { max_fs=$fs0; rest=; }
  read -r -a max_w <<<"$rest"
  local peaks; peaks=$(IFS=,; printf '[%s]' "${max_w[*]}")
  local rss_kb; rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$base.time")
  local daemon_kb=0 h
  for p in "${hwm_pids[@]}"; do h=$(_bench_hwm_kb "$p"); [ "${h:-0}" -gt "$daemon_kb" ] && daemon_kb=$h; done
  local wall; wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  printf '{"name":"%s","rc":%d,"wall":%s,"rssKB":%s,"daemonHwmKB":%s,"watchPeakBytes":%s,"watch":%s,"fsUsedDeltaPeakBytes":%s,"load":"%s","cmd":%s}\n' \
    "$name" "$rc" "$wall" "${rss_kb:-0}" "$daemon_kb" "$peaks" "$(_bench_json "${watch[@]}")" "$((max_fs - fs0))" "$load0" \
    "$(_bench_json "$@")" \
    >>"$BENCH_RESULTS"
  bench_log "$name: rc $rc, ${wall} s, peak RSS $(( ${rss_kb:-0} / 1024 )) MB, watched peaks (bytes) ${peaks}"
  if [ "$rc" != 0 ]; then tail -n 20 "$base.err" >&2; fi
  return "$rc"
}

# bench_note KEY JSON-VALUE — record a fact for the report
bench_note() { printf '{"note":"%s","value":%s}\n' "$1" "$2" >>"$BENCH_RESULTS"; }
