#!/usr/bin/env bash
# run_vulkaninfo.sh: vulkaninfo, a client nobody here wrote, runs through the
# test chain (set up by suballoc_add_vulkan_test) and exits cleanly, both as
# `vulkaninfo --summary` and in full, with no validation message, no message of
# the layer and no strict-device violation; the full output shows the
# maxMemoryAllocationCount the chain should report.
# Environment: SUBALLOC_TEST_CHAIN (none, plain, strict, strict_only, validation_*);
# SUBALLOC_CLIENT_PRELOAD, a sanitizer runtime vulkaninfo needs to load a sanitized layer.
set -u
chain="${SUBALLOC_TEST_CHAIN:-none}"
if [ -n "${SUBALLOC_CLIENT_PRELOAD:-}" ]; then
  # Leaks of an uninstrumented client are not the layer's; the test programs,
  # built with the sanitizer, check the layer for leaks.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
fi
out=$(mktemp "${TMPDIR:-/tmp}/run_vulkaninfo.XXXXXX")
err=$(mktemp "${TMPDIR:-/tmp}/run_vulkaninfo.XXXXXX")
trap 'rm -f "$out" "$err"' EXIT

fail() {
  echo "run_vulkaninfo ($chain): $*" >&2
  exit 1
}

# Both streams to the file; stderr also on to run_in_chain, which reads the
# loader's layer callstack there.
run() {
  LD_PRELOAD="${SUBALLOC_CLIENT_PRELOAD:-${LD_PRELOAD:-}}" vulkaninfo "$@" >"$out" 2>"$err"
  local status=$?
  cat "$err" >&2
  cat "$err" >>"$out"
  [ $status -eq 0 ] || { cat "$out"; fail "vulkaninfo $* exited with status $status"; }
  if grep -n -E 'Validation (Error|Warning)|VUID-|^suballoc: |TRANSPARENT-suballoc|strict_device: VIOLATION' "$out" >&2; then
    fail "vulkaninfo $* printed the messages above"
  fi
}

run --summary
grep -q "deviceName" "$out" || fail "vulkaninfo --summary lists no device"

run
limit=$(sed -n 's/^[[:space:]]*maxMemoryAllocationCount[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$out" | head -n 1)
[ -n "$limit" ] || fail "the full output shows no maxMemoryAllocationCount"
case "$chain" in
  plain|strict|validation_above|validation_below) expected=4294967295 ;; # raised by the layer
  strict_only) expected=4096 ;;                                            # the strict device's real limit
  *) expected="$limit" ;;
esac
[ "$limit" = "$expected" ] || fail "maxMemoryAllocationCount is $limit, expected $expected"
echo "run_vulkaninfo ($chain): clean exit, maxMemoryAllocationCount = $limit"
