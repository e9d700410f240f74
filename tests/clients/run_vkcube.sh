#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_vkcube.sh: vkcube, a real presenting client, draws a fixed number of frames
# through the test chain on a private Xvfb display and exits cleanly, with no
# validation message, no message of the layer, no strict-device violation and,
# with the layer, no leaked allocation in its stats lines.
# Environment: SUBALLOC_TEST_CHAIN; VKCUBE_FRAMES (default 50); SUBALLOC_CLIENT_PRELOAD,
# a sanitizer runtime vkcube needs to load a sanitized layer.
set -u
chain="${SUBALLOC_TEST_CHAIN:-none}"
fail() {
  echo "run_vkcube ($chain): $*" >&2
  exit 1
}
. "$(dirname "$0")/client_checks.sh"

frames="${VKCUBE_FRAMES:-50}"
work=$(mktemp -d "${TMPDIR:-/tmp}/run_vkcube.XXXXXX")
cleanup() {
  stop_xvfb
  rm -rf "$work"
}
trap cleanup EXIT
reset_stats

require_program vkcube vulkan-tools
start_xvfb "$work"

run_client "$work/out" timeout 120 vkcube --c "$frames" ||
  { status=$?; cat "$work/out"; fail "vkcube --c $frames exited with status $status (expected 0)"; }
check_quiet "$work/out" "vkcube"
check_stats
echo "run_vkcube ($chain): $frames frames on display :$display, clean exit"
