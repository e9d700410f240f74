#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_zink.sh PROGRAM: an OpenGL program on Mesa's zink (OpenGL on Vulkan) on a
# private Xvfb display, through the test chain.
#   glxinfo   glxinfo exits with status 0, its renderer string is
#             "zink (<the test's Vulkan device>)", and its whole report equals
#             that of the same run without the layer, save the lines of free and
#             available memory (the layer's blocks are memory in use)
#   glxgears  glxgears draws until timeout stops it, reporting a frame rate above
#             zero, and does not end any other way
# Both: the validation layer reports nothing the run without the layer did not
# (glxgears has no such run: it is reference-free and must be silent).
# Environment: SUBALLOC_TEST_CHAIN; GLXGEARS_SECONDS (default 6; glxgears
# reports every 5 seconds); SUBALLOC_CLIENT_PRELOAD, a sanitizer runtime the
# program needs to load a sanitized layer.
set -u
chain="${SUBALLOC_TEST_CHAIN:-none}"
program="${1:-}"
fail() {
  echo "run_zink $program ($chain): $*" >&2
  exit 1
}
. "$(dirname "$0")/client_checks.sh"

# OpenGL through zink on the Vulkan driver the chain leads to. zink takes a CPU
# device (lavapipe) only when software rendering is asked for, and refuses one
# then that is not a CPU (the strict device says it is a discrete GPU).
export GALLIUM_DRIVER=zink
if chain_has_strict_device; then unset LIBGL_ALWAYS_SOFTWARE; else export LIBGL_ALWAYS_SOFTWARE=1; fi
# Mesa 22.3's zink destroys its VkDevice with a VkDeviceMemory (and the image on
# it) still live: validation alone reports VUID-vkDestroyDevice-device-00378.
# The layer then releases it and says so; that is allowed, nothing else is.
CLIENT_LEAKS_AT_DESTROY=1

work=$(mktemp -d "${TMPDIR:-/tmp}/run_zink.XXXXXX")
cleanup() {
  stop_xvfb
  rm -rf "$work"
}
trap cleanup EXIT
reset_stats
device=$(device_name)
expected_renderer="zink ($device)"
XVFB_SCREEN=320x240x24 start_xvfb "$work"

case "$program" in
  glxinfo)
    require_program glxinfo mesa-utils
    run_reference "$work/reference" glxinfo ||
      { status=$?; cat "$work/reference" >&2; fail "without the layer ($(reference_name)) glxinfo exited with status $status: the baseline is broken"; }
    run_client "$work/out" glxinfo ||
      { status=$?; cat "$work/out"; fail "glxinfo exited with status $status (expected 0, as without the layer)"; }
    check_messages "$work/out" "glxinfo" "$work/reference"
    renderer=$(sed -n 's/^OpenGL renderer string: //p' "$work/out")
    [ "$renderer" = "$expected_renderer" ] ||
      fail "the OpenGL renderer string is '$renderer', expected '$expected_renderer'"
    # The report alone: glxinfo's own lines, without free-memory figures and
    # without the loader's, the layer's and the validation layer's messages.
    report() {
      grep -v -E 'free (aux\. )?memory|available|(^|[|] )LAYER:|\[Loader Message\]|^suballoc: |Validation |VUID-|UNASSIGNED-' "$1" |
        grep -v -E '^[[:space:]]*(Objects: [0-9]+|\[[0-9]+\] 0x[0-9a-f]+, type: [0-9]+, name: .*)?$'
    }
    if ! diff -u <(report "$work/reference") <(report "$work/out") >"$work/diff"; then
      cat "$work/diff" >&2
      fail "glxinfo reports differently than without the layer ($(reference_name)): diff above (- without, + with)"
    fi
    if [ "$chain" = validation_above ]; then
      # Validation above the layer sees the app's objects: the allocations it saw
      # left alive at vkDestroyDevice are the ones the layer counts as leaked.
      seen=$(grep -c -E 'VUID-vkDestroyDevice-device-00378.*VkDeviceMemory 0x[0-9a-f]+\[[^]]*\] has not been destroyed' "$work/out")
      leaked=$(stats_total app_leaked)
      [ "$leaked" = "$seen" ] ||
        fail "the layer counts $leaked leaked allocations; validation above it saw $seen VkDeviceMemory left alive"
    fi
    summary="renderer '$renderer', report identical to the run without the layer ($(reference_name))"
    if chain_has_layer; then summary+=", $(stats_total app_leaked) allocations left alive at vkDestroyDevice"; fi
    ;;
  glxgears)
    require_program glxgears mesa-utils
    seconds="${GLXGEARS_SECONDS:-6}"
    run_client "$work/out" timeout "$seconds" glxgears -info
    status=$?
    [ $status -eq 124 ] ||
      { cat "$work/out"; fail "glxgears ended with status $status before timeout stopped it after ${seconds}s (expected 124)"; }
    check_quiet "$work/out" "glxgears"
    renderer=$(sed -n 's/^GL_RENDERER *= *//p' "$work/out")
    [ "$renderer" = "$expected_renderer" ] ||
      fail "GL_RENDERER is '$renderer', expected '$expected_renderer'"
    frames=$(sed -n 's/^\([0-9][0-9]*\) frames in [0-9.]* seconds.*/\1/p' "$work/out" | head -n 1)
    [ -n "$frames" ] || { cat "$work/out"; fail "glxgears reported no frame rate in ${seconds}s"; }
    [ "$frames" -gt 0 ] || fail "glxgears drew $frames frames in its first 5 seconds (expected more than 0)"
    # Stopped by a signal, glxgears never destroys its device: no stats line.
    VK_TRANSPARENT_SUBALLOC_STATS_FILE=""
    summary="renderer '$renderer', $frames frames in its first 5 seconds"
    ;;
  *) fail "unknown program '$program' (glxinfo, glxgears)" ;;
esac
check_stats
echo "run_zink $program ($chain): $summary"
