#!/usr/bin/env bash
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
xvfb_pid=""
cleanup() {
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
reset_stats

command -v Xvfb >/dev/null || fail "Xvfb is not installed (Debian package xvfb)"
command -v vkcube >/dev/null || fail "vkcube is not installed (Debian package vulkan-tools)"

# Xvfb picks a free display itself and writes its number: no races between tests.
mkfifo "$work/display"
Xvfb -displayfd 3 -screen 0 640x480x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
display=""
read -r -t 20 display <"$work/display" || true
[ -n "$display" ] || { cat "$work/xvfb.log" >&2; fail "Xvfb did not start"; }

DISPLAY=":$display" run_client "$work/out" timeout 120 vkcube --c "$frames" ||
  { cat "$work/out"; fail "vkcube --c $frames exited with status $?"; }
check_quiet "$work/out" "vkcube"
check_stats
echo "run_vkcube ($chain): $frames frames on display :$display, clean exit"
