#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_vulkaninfo.sh: vulkaninfo, a client nobody here wrote, runs through the
# test chain (set up by suballoc_add_vulkan_test) and exits cleanly, both as
# `vulkaninfo --summary` and in full, with no validation message, no message of
# the layer and no strict-device violation; the full output shows the
# maxMemoryAllocationCount the chain should report.
# Environment: SUBALLOC_TEST_CHAIN (none, plain, strict, strict_only, validation_*);
# SUBALLOC_CLIENT_PRELOAD, a sanitizer runtime vulkaninfo needs to load a sanitized layer.
set -u
chain="${SUBALLOC_TEST_CHAIN:-none}"
fail() {
  echo "run_vulkaninfo ($chain): $*" >&2
  exit 1
}
. "$(dirname "$0")/client_checks.sh"

out=$(mktemp "${TMPDIR:-/tmp}/run_vulkaninfo.XXXXXX")
trap 'rm -f "$out"' EXIT
reset_stats

require_program vulkaninfo vulkan-tools
run_client "$out" vulkaninfo --summary ||
  { status=$?; cat "$out"; fail "vulkaninfo --summary exited with status $status (expected 0)"; }
check_quiet "$out" "vulkaninfo --summary"
grep -q "deviceName" "$out" || fail "vulkaninfo --summary lists no device"

run_client "$out" vulkaninfo || { status=$?; cat "$out"; fail "vulkaninfo exited with status $status (expected 0)"; }
check_quiet "$out" "vulkaninfo"
limit=$(sed -n 's/^[[:space:]]*maxMemoryAllocationCount[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$out" | head -n 1)
[ -n "$limit" ] || fail "the full output shows no maxMemoryAllocationCount"
if chain_has_layer; then
  expected=4294967295 # raised by the layer
elif [ "$chain" = strict_only ]; then
  expected=4096       # the strict device's real limit
else
  expected="$limit"
fi
[ "$limit" = "$expected" ] || fail "maxMemoryAllocationCount is $limit, expected $expected"
check_stats
echo "run_vulkaninfo ($chain): clean exit, maxMemoryAllocationCount = $limit"
