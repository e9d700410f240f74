#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_ffmpeg.sh CASE: ffmpeg runs Vulkan filters on a generated clip through the
# test chain, and its frame checksums (framemd5) are bit-identical to those of
# the same run in the same chain without the layer; it exits cleanly, each
# output stream has every frame, the validation layer reports nothing the run
# without the layer did not, and, with the layer, no leaked allocation.
#   vulkan_filters  ffmpeg's own Vulkan filters, one output stream each:
#                   scale_vulkan, avgblur_vulkan, chromaber_vulkan, gblur_vulkan,
#                   transpose_vulkan, and overlay_vulkan (not bit-exact run to
#                   run: its frame sizes are compared, not its checksums)
#   libplacebo      the libplacebo filter (libplacebo on ffmpeg's Vulkan device),
#                   a downscale and an ewa_lanczos upscale to 4:4:4
# Environment: SUBALLOC_TEST_CHAIN; FFMPEG_FRAMES (default 8);
# SUBALLOC_CLIENT_PRELOAD, a sanitizer runtime ffmpeg needs to load a sanitized layer.
set -u
chain="${SUBALLOC_TEST_CHAIN:-none}"
case_name="${1:-}"
fail() {
  echo "run_ffmpeg $case_name ($chain): $*" >&2
  exit 1
}
. "$(dirname "$0")/client_checks.sh"

# Core validation only: with synchronization validation ffmpeg 5.1 reports
# hazards of its own, with or without the layer, some of them timing-dependent.
unset VK_LAYER_ENABLES VK_LAYER_SETTINGS_PATH

frames="${FFMPEG_FRAMES:-8}"
# One second of testsrc at $frames frames per second: $frames frames.
source_clip="testsrc=size=128x96:rate=$frames:duration=1"
to_yuv="hwdownload,format=yuv420p"
case "$case_name" in
  vulkan_filters)
    graph="[0:v]format=yuv420p,split=6[a][b][c][d][e][m];"
    graph+="[a]hwupload,scale_vulkan=w=96:h=72,${to_yuv}[o0];"
    graph+="[b]hwupload,avgblur_vulkan=sizeX=3:sizeY=3,${to_yuv}[o1];"
    graph+="[c]hwupload,chromaber_vulkan=dist_x=2:dist_y=2,${to_yuv}[o2];"
    graph+="[d]hwupload,gblur_vulkan=sigma=1.5,${to_yuv}[o3];"
    graph+="[e]hwupload,transpose_vulkan,${to_yuv}[o4];"
    graph+="[m]split[main][small];[small]scale=32:24,hwupload[over];"
    graph+="[main]hwupload[under];[under][over]overlay_vulkan=x=8:y=8,${to_yuv}[o5]"
    streams=6
    inexact_stream=5 # overlay_vulkan
    ;;
  libplacebo)
    graph="[0:v]format=yuv420p,hwupload,libplacebo=w=96:h=72,split[p][q];"
    graph+="[p]${to_yuv}[o0];"
    graph+="[q]libplacebo=w=160:h=120:upscaler=ewa_lanczos:format=yuv444p,hwdownload,format=yuv444p[o1]"
    streams=2
    inexact_stream=""
    ;;
  *) fail "unknown case '$case_name' (vulkan_filters, libplacebo)" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/run_ffmpeg.XXXXXX")
trap 'rm -rf "$work"' EXIT
reset_stats
require_program ffmpeg ffmpeg

maps=()
for ((i = 0; i < streams; i++)); do maps+=(-map "[o$i]"); done
# The checksums go to a file: the validation layer writes its messages to stdout.
ffmpeg_args=(-nostdin -y -hide_banner -loglevel error
  -init_hw_device vulkan=vk:0 -filter_hw_device vk
  -f lavfi -i "$source_clip" -filter_complex "$graph" "${maps[@]}" -f framemd5)

run_reference "$work/reference.log" ffmpeg "${ffmpeg_args[@]}" "$work/reference.md5" ||
  { status=$?; cat "$work/reference.log" >&2; fail "without the layer ($(reference_name)) ffmpeg exited with status $status: the baseline is broken"; }
run_client "$work/out" ffmpeg "${ffmpeg_args[@]}" "$work/chain.md5" ||
  { status=$?; cat "$work/out"; fail "ffmpeg exited with status $status (expected 0, as without the layer)"; }
check_messages "$work/out" "ffmpeg" "$work/reference.log"

# The checksum lines ("stream, dts, pts, duration, size, hash"), with the hash of
# a stream that is not bit-exact run to run replaced by its size.
checksums() {
  awk -F', *' -v inexact="$inexact_stream" '
    /^#/ { next }
    { if ($1 == inexact) $6 = "(not compared)"; print }' "$1"
}
for side in reference chain; do
  [ -s "$work/$side.md5" ] || fail "the $side run wrote no framemd5 output"
  for ((i = 0; i < streams; i++)); do
    count=$(awk -F', *' -v s="$i" '!/^#/ && $1 == s' "$work/$side.md5" | wc -l)
    [ "$count" -eq "$frames" ] ||
      fail "the $side run has $count frames in output stream $i, expected $frames"
  done
done
if ! diff -u <(checksums "$work/reference.md5") <(checksums "$work/chain.md5") >"$work/diff"; then
  cat "$work/diff" >&2
  fail "frame checksums differ from the run without the layer ($(reference_name)): diff above (- without, + with)"
fi
if ! diff -q <(grep '^#' "$work/reference.md5") <(grep '^#' "$work/chain.md5") >/dev/null; then
  diff -u <(grep '^#' "$work/reference.md5") <(grep '^#' "$work/chain.md5") >&2
  fail "stream headers (formats, sizes) differ from the run without the layer"
fi
check_stats
echo "run_ffmpeg $case_name ($chain): $streams streams x $frames frames bit-identical to the run without the layer ($(reference_name))"
