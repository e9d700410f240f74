#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check-format.sh [--fix] [PATH...]: the C sources against .clang-format.
#
# Checks every *.c and *.h file git tracks (or those under the PATHs given)
# with clang-format 14 (CLANG_FORMAT overrides), lists the files it would
# change and how many lines, and exits 1 if there is any. --fix rewrites them.
# scripts/test.sh runs it first in its normal stage.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
clang_format=${CLANG_FORMAT:-clang-format-14}
fix=0
if [ "${1:-}" = "--fix" ]; then fix=1; shift; fi

command -v "$clang_format" >/dev/null ||
  { echo "check-format: $clang_format not found (Debian package clang-format-14)" >&2; exit 2; }
version=$("$clang_format" --version)
case "$version" in
  *"version 14."*) ;;
  *) echo "check-format: warning: .clang-format is written for clang-format 14; this is: $version" >&2 ;;
esac

cd "$root"
mapfile -t files < <(git ls-files -- "${@:-.}" | grep -E '\.[ch]$')
[ ${#files[@]} -gt 0 ] || { echo "check-format: no C files under ${*:-the tree}" >&2; exit 2; }

unformatted=0
changed_lines=0
for file in "${files[@]}"; do
  [ -f "$file" ] || continue
  if [ "$fix" -eq 1 ]; then
    "$clang_format" -i --style=file "$file"
    continue
  fi
  lines=$("$clang_format" --style=file "$file" | diff "$file" - | grep -c '^>' || true)
  if [ "$lines" -gt 0 ]; then
    echo "$file: $lines line(s) differ"
    unformatted=$((unformatted + 1))
    changed_lines=$((changed_lines + lines))
  fi
done

if [ "$fix" -eq 1 ]; then
  echo "check-format: formatted ${#files[@]} file(s)"
  exit 0
fi
if [ "$unformatted" -gt 0 ]; then
  echo "check-format: $unformatted of ${#files[@]} file(s) need clang-format ($changed_lines line(s)); fix with scripts/check-format.sh --fix ${*:-}" >&2
  exit 1
fi
echo "check-format: all ${#files[@]} file(s) follow .clang-format"
