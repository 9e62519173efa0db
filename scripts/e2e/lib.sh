#!/usr/bin/env bash
# scripts/e2e/lib.sh — the check framework of the end-to-end suite (sourced by scripts/e2e.sh).
#
# One line per check on stdout, `ok - WHAT (1.2s)` or `not ok - WHAT`, diagnostics as `#` lines,
# and a closing line `N passed, M failed` (CI reads it). A check that cannot run is never dropped
# silently: e2e_skip prints `ok - WHAT # SKIP why` (counted apart), and a check whose prerequisite
# failed prints `not ok - WHAT # not run: why` (counted as failed).
#
# Variables the other pieces use:
#   E2E_ROOT   the repository          E2E_WORK  scratch dir (inside the engines' state dir)
#   E2E_LOG    the log of the current check (its tail is shown when the check fails)

E2E_PASSED=0
E2E_FAILED=0
E2E_SKIPPED=0
E2E_FAILED_NAMES=()

e2e_diag() { local l; while IFS= read -r l; do printf '#   %s\n' "$l"; done; }
e2e_note() { printf '# %s\n' "$*"; }

e2e_ok() {
  E2E_PASSED=$((E2E_PASSED + 1))
  printf 'ok - %s\n' "$*"
}

e2e_not_ok() {
  E2E_FAILED=$((E2E_FAILED + 1))
  E2E_FAILED_NAMES+=("$*")
  printf 'not ok - %s\n' "$*"
}

# e2e_skip WHAT WHY — the check cannot apply here (not a failure); says why.
e2e_skip() {
  E2E_SKIPPED=$((E2E_SKIPPED + 1))
  printf 'ok - %s # SKIP %s\n' "$1" "$2"
}

# e2e_not_run WHAT WHY — the check could not run because something it needs failed.
e2e_not_run() { e2e_not_ok "$1 # not run: $2"; }

_e2e_seq=0
_e2e_now() { date +%s.%N; }
_e2e_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fs", b - a }'; }

# e2e_check WHAT CMD... — run CMD (a command or a function of scripts/e2e/*.sh) in a fresh bash
# with `set -euo pipefail`, stdout+stderr to a fresh log; ok if it exits 0, else the tail of the
# log is shown. Returns CMD's status, so callers can chain dependent checks.
#
# Why a fresh bash: inside `if f`, `f || …` and `f && …` bash ignores errexit for everything f
# runs, subshells included, so a multi-step helper would carry on past a failed step. A new
# process sources the function files again (scripts/e2e/env.sh) with errexit in force. CMD
# therefore passes results on in files, and sees only exported variables.
e2e_check() {
  local what="$1"; shift
  _e2e_seq=$((_e2e_seq + 1))
  E2E_LOG="$E2E_WORK/logs/$(printf '%03d' "$_e2e_seq").log"
  export E2E_LOG
  mkdir -p "$E2E_WORK/logs"
  local t0 rc=0; t0="$(_e2e_now)"
  bash -c 'set -euo pipefail; source "$E2E_ROOT/scripts/e2e/env.sh"; "$@"' e2e-step "$@" >"$E2E_LOG" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then
    e2e_ok "$what ($(_e2e_secs "$t0" "$(_e2e_now)"))"
  else
    e2e_not_ok "$what (exit $rc)"
    tail -n "${E2E_TAIL_LINES:-25}" "$E2E_LOG" | e2e_diag
  fi
  return "$rc"
}

# e2e_summary — the closing lines; returns non-zero if anything failed.
e2e_summary() {
  local n
  if [ "$E2E_FAILED" -gt 0 ]; then
    printf '# failed:\n'
    for n in "${E2E_FAILED_NAMES[@]}"; do printf '#   %s\n' "$n"; done
  fi
  [ "$E2E_SKIPPED" = 0 ] || printf '# %s skipped (see the SKIP lines above for why)\n' "$E2E_SKIPPED"
  printf '%s passed, %s failed\n' "$E2E_PASSED" "$E2E_FAILED"
  [ "$E2E_FAILED" = 0 ]
}

# layerflat ARGS... — the CLI under test: the built dist/ of this checkout under the default Node,
# or the command E2E_CLI names (the round trips set it to the RHEL 7 tarball's launcher).
layerflat() {
  if [ -n "${E2E_CLI:-}" ]; then "$E2E_CLI" "$@"; else node "$E2E_ROOT/dist/cli/main.js" "$@"; fi
}

# e2e_json FILE EXPR — print a value from a JSON file (EXPR is JavaScript over `j`).
e2e_json() { node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = (0, eval)("(j) => " + process.argv[2])(j); process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));' "$1" "$2"; }

# e2e_expect_output WHAT EXPECTED CMD... — ok if CMD exits 0 and its stdout contains EXPECTED.
e2e_expect_output() {
  local what="$1" expected="$2"; shift 2
  e2e_check "$what" e2e_has_output "$expected" "$@"
}
e2e_has_output() {
  local expected="$1" out; shift
  out="$("$@" 2>"$E2E_LOG.stderr")" || { printf 'command failed: %s\n' "$*"; cat "$E2E_LOG.stderr"; return 1; }
  printf 'stdout: %s\n' "$out"
  grep -qF -- "$expected" <<<"$out" || { printf 'expected to find: %s\n' "$expected"; cat "$E2E_LOG.stderr"; return 1; }
}

# e2e_same_files A B — both non-empty and equal (captured outputs of the original and the flat).
e2e_same_files() {
  [ -s "$1" ] || { echo "no output in $1"; return 1; }
  printf 'output:\n'; cat "$1"
  diff -u "$1" "$2"
}

# e2e_fails_one_line ERRFILE CODE CMD... — CMD (a layerflat run) exits 2 with one "[CODE]" line on
# stderr, which stays in ERRFILE for the caller to look at further.
e2e_fails_one_line() {
  local err="$1" code="$2" rc=0; shift 2
  "$@" 2>"$err" >/dev/null || rc=$?
  echo "exit $rc: $(cat "$err")"
  [ "$rc" = 2 ] && [ "$(wc -l <"$err")" = 1 ] && grep -q "^layerflat: error \[$code\]" "$err"
}
