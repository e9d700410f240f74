#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_mpv.sh VO: mpv plays a generated clip for a few frames through the test
# chain with a Vulkan video output on a private Xvfb display and exits by
# itself with status 0; its log shows the Vulkan context on the X window, the
# test's Vulkan device and a swapchain; the first frame, rendered again by the
# video output into a file (mpv_screenshot.lua), has the same pixels as in the
# same run without the layer and shows the test pattern; the validation layer
# reports nothing the run without the layer did not; with the layer, no leaked
# allocation.
#   VO: gpu (mpv's renderer on libplacebo's Vulkan) or gpu-next (libplacebo's renderer)
# Environment: SUBALLOC_TEST_CHAIN; MPV_FRAMES (default 5);
# SUBALLOC_CLIENT_PRELOAD, a sanitizer runtime mpv needs to load a sanitized layer.
set -u
chain="${SUBALLOC_TEST_CHAIN:-none}"
vo="${1:-}"
fail() {
  echo "run_mpv $vo ($chain): $*" >&2
  exit 1
}
. "$(dirname "$0")/client_checks.sh"

case "$vo" in
  gpu | gpu-next) ;;
  *) fail "unknown video output '$vo' (gpu, gpu-next)" ;;
esac
frames="${MPV_FRAMES:-5}"
# libplacebo 4.208 destroys its swapchain's semaphores without waiting for the
# queue: with validation alone, gpu-next shows this in about half of the runs.
CLIENT_OWN_VALIDATION_IDS="VUID-vkDestroySemaphore-semaphore-01137"
# mpv 0.35.1 --vo=gpu-next on lavapipe dies with SIGSEGV while it takes the
# screenshot in about one run in a few hundred, with no layer at all (seen in
# clients_mpv_gpu_next_same_picture_none, whose chain has no layer).
if [ "$vo" = gpu-next ]; then
  CLIENT_KNOWN_CRASH="mpv --vo=gpu-next crashes now and then during its screenshot with no layer at all"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/run_mpv.XXXXXX")
cleanup() {
  stop_xvfb
  rm -rf "$work"
}
trap cleanup EXIT
reset_stats
require_program mpv mpv
require_program ffmpeg ffmpeg # makes the clip, reads the screenshots
device=$(device_name)
XVFB_SCREEN=320x240x24 start_xvfb "$work"

ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "testsrc=size=160x120:rate=25:duration=1" \
  -c:v mpeg4 -q:v 5 "$work/clip.mkv" || fail "ffmpeg could not make the test clip"

mpv_args() { # <screenshot file>
  printf '%s\n' --no-config --vo="$vo" --gpu-api=vulkan --gpu-context=x11vk \
    --vulkan-device="$device" --frames="$frames" --pause --ao=null --osd-level=0 --no-osc \
    --script="$client_dir/mpv_screenshot.lua" --script-opts=mpv_screenshot-file="$1" \
    --msg-level=all=v "$work/clip.mkv"
}
mapfile -t reference_args < <(mpv_args "$work/reference.png")
mapfile -t chain_args < <(mpv_args "$work/chain.png")

run_reference "$work/reference.log" timeout 60 mpv "${reference_args[@]}" ||
  { status=$?; cat "$work/reference.log" >&2; fail "without the layer ($(reference_name)) mpv exited with status $status: the baseline is broken"; }
run_client "$work/out" timeout 60 mpv "${chain_args[@]}" ||
  { status=$?; cat "$work/out"; fail "mpv exited with status $status (expected 0, as without the layer)"; }
check_messages "$work/out" "mpv --vo=$vo" "$work/reference.log"

# expect_log <extended regex> <what it proves>
expect_log() {
  grep -q -E "$1" "$work/out" || { cat "$work/out"; fail "the log above has no line matching '$1': $2"; }
}
expect_log "^\[vo/$vo/vulkan\] Initializing GPU context 'x11vk'" "no Vulkan context on the X window"
expect_log "Device Name: ${device//[()]/.}\$" "not the test's Vulkan device '$device'"
expect_log "^\[vo/$vo/libplacebo\] Picked surface configuration" "no swapchain surface format"
expect_log "^VO: \[$vo\] 160x120 " "the video output did not take the clip"
expect_log "^(\[cplayer\] )?Screenshot: '$work/chain.png'" "the first frame was not rendered into the file"
expect_log "^Exiting\.\.\. \(End of file\)" "mpv did not end by reaching the end of its frames"

# picture <png>: the size and checksum of the decoded pixels.
picture() {
  ffmpeg -nostdin -hide_banner -loglevel error -i "$1" -f framemd5 - | awk -F', *' '!/^#/ { print $5, $6 }'
}
# colours <png>: how many distinct colours the picture has.
colours() {
  ffmpeg -nostdin -hide_banner -loglevel error -i "$1" -f rawvideo -pix_fmt rgb24 - |
    od -An -tu1 -v -w3 | sort -u | wc -l
}
for side in reference chain; do
  [ -s "$work/$side.png" ] || fail "the $side run wrote no screenshot"
done
reference_picture=$(picture "$work/reference.png")
chain_picture=$(picture "$work/chain.png")
[ -n "$reference_picture" ] || fail "ffmpeg cannot read the screenshot of the run without the layer"
[ "$chain_picture" = "$reference_picture" ] ||
  fail "the first frame differs from the run without the layer ($(reference_name)): size and md5 '$chain_picture', expected '$reference_picture'"
count=$(colours "$work/chain.png")
[ "$count" -ge 8 ] || fail "the first frame has $count colours: a blank picture, not the test pattern (expected 8 or more)"
check_stats
echo "run_mpv $vo ($chain): $frames frames through Vulkan on '$device', first frame ($count colours) identical to the run without the layer ($(reference_name))"
