#!/usr/bin/env bash
# Usage: scripts/nodes/check-glibc.sh TARBALL
# Fails unless everything in the RHEL 7 tarball runs on glibc 2.17 (RHEL 7 / CentOS 7):
# every ELF file needs at most GLIBC_2.17, and at most what RHEL 7's libstdc++ 4.8.5 has
# (GLIBCXX_3.4.19, CXXABI_1.3.7); the bundle loads no native code (no .node addon, no dlopen);
# and the only ELF file is the shipped node binary.
set -euo pipefail
tarball=${1:?usage: check-glibc.sh TARBALL}
work=$(mktemp -d "${TMPDIR:-/tmp}/layerflat-glibc.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
fail=0
newest() { grep -o "$1[0-9.]*" | sed "s/^$1//" | sort -uV | tail -1; }
above() { [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" != "$2" ]; }
elves=0
while IFS= read -r -d '' f; do
  head -c 4 "$f" | grep -q $'^\x7fELF' || continue
  elves=$((elves + 1))
  syms=$(objdump -T "$f")
  for limit in GLIBC_:2.17 GLIBCXX_:3.4.19 CXXABI_:1.3.7; do
    prefix=${limit%%:*} max=${limit#*:}
    need=$(newest "$prefix" <<<"$syms")
    if above "$need" "$max"; then
      echo "check-glibc: ${f#"$work"/} needs $prefix$need, RHEL 7 has $prefix$max" >&2; fail=1
    else
      echo "check-glibc: ${f#"$work"/} needs ${prefix}${need:-none} (limit $prefix$max)"
    fi
  done
  case "$f" in */node/bin/node) ;; *) echo "check-glibc: unexpected native file ${f#"$work"/}" >&2; fail=1 ;; esac
done < <(find "$work" -type f -print0)
[ "$elves" -eq 1 ] || { echo "check-glibc: expected one ELF file (node), found $elves" >&2; fail=1; }
if find "$work" -name '*.node' | grep -q .; then echo "check-glibc: the tarball holds a native addon" >&2; fail=1; fi
bundle=$(find "$work" -name layerflat.mjs)
if grep -qE 'process\.dlopen|\.node["'"'"']\)' "$bundle"; then
  echo "check-glibc: the bundle loads native code" >&2; fail=1
fi
[ "$fail" -eq 0 ] && echo "check-glibc: $(basename "$tarball") runs on glibc 2.17"
exit "$fail"
