#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dump_test.sh CASE: one rule of the layer's JSON dump (stats_json_file,
# stats_interval), proven from the outside with stats_dump_app, check_dump.py
# and suballoc-picture. CMake runs it through tests/run_in_chain.sh, which
# fails the test unless every device had the expected layer chain.
#
# Needs in the environment (tests/stats/CMakeLists.txt sets them): STATS_APP,
# CHECK_DUMP, PICTURE, PYTHON, and the chain's VK_LAYER_PATH and VK_INSTANCE_LAYERS.
set -u

work=$(mktemp -d "${TMPDIR:-/tmp}/dump_test.XXXXXX")
trap 'rm -rf "$work"' EXIT
dump="$work/dump.json"
stats="$work/stats.txt"
out="$work/stdout"
err="$work/stderr"
status=0

fail() {
  echo "FAIL: $*" >&2
  echo "--- stdout of the last run:" >&2; cat "$out" >&2 2>/dev/null
  echo "--- stderr of the last run:" >&2; grep -v 'LAYER:\|Loader Message' "$err" >&2 2>/dev/null
  echo "--- files:" >&2; ls -la "$work" >&2
  exit 1
}

# Only what a case sets reaches the layer.
for name in $(compgen -e); do
  case "$name" in VK_TRANSPARENT_SUBALLOC_*|VK_SUBALLOC_*) unset "$name" ;; esac
done
export VK_TRANSPARENT_SUBALLOC_LOG_LEVEL=warning

run() { # CMD...: stdout, stderr and status into $out, $err, $status; stderr also to run_in_chain
  "$@" >"$out" 2>"$err"
  status=$?
  cat "$err" >&2
}

app() { run "$STATS_APP" "$@"; [ "$status" -eq 0 ] || fail "stats_dump_app $* exited with $status"; }

check() { # DUMP ARGS...: check_dump.py, pictures included
  local file=$1
  shift
  "$PYTHON" "$CHECK_DUMP" "$file" --picture-tool "$PICTURE" --picture-dir "$work" "$@" ||
    fail "check_dump.py $file $*"
}

messages_about() { grep -c "$1" "$err" || true; }

# Every memory type, bound to buffers, images and nothing, names given with
# debug utils and debug markers (odd bytes too), one pass-through, leaks: the
# dump at vkDestroyDevice shows them all as the app left them, with the
# numbers of the statistics line written at the same moment.
case_named() {
  export VK_SUBALLOC_STATS_JSON_FILE="$dump" VK_SUBALLOC_STATS_FILE="$stats"
  app named "$work/expect.json"
  check "$dump" --expect "$work/expect.json" --stats-file "$stats" --written-at vkDestroyDevice
  [ "$(messages_about 'was never freed')" -ge 1 ] || fail "the layer did not report the leaks"
}

# With stats_interval the dump is rewritten while the app runs (the app waits
# for a live allocation to appear in it and then to go), by a thread that
# exists only while the device does.
case_interval() {
  export VK_SUBALLOC_STATS_JSON_FILE="$dump" VK_SUBALLOC_STATS_FILE="$stats" VK_SUBALLOC_STATS_INTERVAL=1
  app interval "$dump"
  grep -q "interval dump showed the live allocation" "$out" || fail "no interval dump seen"
  check "$dump" --stats-file "$stats" --written-at vkDestroyDevice
}

# No stats_interval, no thread: not with a dump file, not without one. With
# one, exactly one thread (so the count can tell).
case_threads() {
  app threads 0
  export VK_SUBALLOC_STATS_JSON_FILE="$dump"
  app threads 0
  VK_SUBALLOC_STATS_INTERVAL=3 app threads 1
  check "$dump" --written-at vkDestroyDevice
}

# An app that exits without vkDestroyDevice or vkDestroyInstance still gets
# its dump, written at exit, with an interval thread running or not.
case_exit() {
  export VK_SUBALLOC_STATS_JSON_FILE="$dump" VK_SUBALLOC_STATS_FILE="$stats"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" # leaving everything to exit is the point
  app exit "$work/expect.json"
  [ ! -s "$stats" ] || fail "a stats line appeared although no device was destroyed"
  check "$dump" --expect "$work/expect.json" --written-at exit
  rm -f "$dump"
  VK_SUBALLOC_STATS_INTERVAL=1 app exit "$work/expect.json"
  check "$dump" --expect "$work/expect.json" --written-at exit
}

# Two devices live at once: the first created writes exactly the name given,
# the second the name with -2 before the extension, whichever goes first.
case_two_devices() {
  export VK_SUBALLOC_STATS_JSON_FILE="$dump"
  app two "$work/expect-1.json" "$work/expect-2.json"
  check "$dump" --expect "$work/expect-1.json" --written-at vkDestroyDevice
  check "$work/dump-2.json" --expect "$work/expect-2.json" --written-at vkDestroyDevice
  local extra
  extra=$(cd "$work" && ls | grep -v -E '^(dump\.json|dump-2\.json|dump\.png|dump\.svg|dump-2\.png|dump-2\.svg|expect-[12]\.json|stdout|stderr)$')
  [ -z "$extra" ] || fail "files other than the two dumps appeared: $extra"
}

# Pass-through mode counts bytes too, and its dump lists the app's live
# allocations as dedicated ones.
case_passthrough() {
  export VK_SUBALLOC_MODE=passthrough VK_SUBALLOC_STATS_JSON_FILE="$dump" VK_SUBALLOC_STATS_FILE="$stats"
  # The app leaves three allocations live on purpose, and pass-through mode
  # leaves the app's memory to the driver, as no layer would: in a sanitizer
  # build LeakSanitizer would rightly report the app's leak, which is the point.
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" app sizes "$work/expect.json"
  check "$dump" --expect "$work/expect.json" --stats-file "$stats" --written-at vkDestroyDevice
  local all=$((4096 + 65536 + 1048576 + 12288 + 300000)) line
  line=$(grep '^suballoc_stats ' "$stats")
  case "$line" in
    *" bytes_requested_peak=0 bytes_in_blocks_peak=0 driver_bytes_peak=$all bytes_passthrough_peak=$all "*) ;;
    *) fail "pass-through bytes are not counted: $line" ;;
  esac
  case "$line" in *" mode=passthrough "*" app_leaked=3 "*" driver_live=3"*) ;; *) fail "unexpected stats line: $line" ;; esac
}

# A bad value of either setting gets the usual one-line report and changes
# nothing; a file that cannot be written gets one line too.
case_bad_settings() {
  VK_SUBALLOC_STATS_INTERVAL=soon app threads 0
  [ "$(messages_about 'setting stats_interval (environment variable VK_SUBALLOC_STATS_INTERVAL)')" -eq 1 ] ||
    fail "expected one report of the bad stats_interval"
  grep -q "'soon' is not a whole number; accepted: 0 (dump only at the end) or 1 to 86400 seconds" "$err" ||
    fail "the report does not say what stats_interval accepts"
  VK_TRANSPARENT_SUBALLOC_STATS_INTERVAL=86401 app threads 0
  [ "$(messages_about 'setting stats_interval')" -eq 1 ] || fail "expected one report of stats_interval 86401"
  VK_SUBALLOC_STATS_JSON_FILE="$(printf '/%.0s' $(seq 1 5000))" app threads 0
  [ "$(messages_about 'setting stats_json_file')" -eq 1 ] || fail "expected one report of the too long stats_json_file"
  VK_SUBALLOC_STATS_JSON_FILE="$work/no-such-folder/dump.json" VK_SUBALLOC_STATS_INTERVAL=1 app threads 1
  [ "$(messages_about "stats_json_file: cannot write '$work/no-such-folder/dump.json': No such file or directory")" -eq 1 ] ||
    fail "expected one report of the dump that cannot be written"
}

# Both settings reach the layer from vk_layer_settings.txt and from
# VkLayerSettingsCreateInfoEXT, as from the environment above.
case_sources() {
  printf 'transparent_suballoc.stats_json_file = %s\ntransparent_suballoc.stats_interval = 2\n' "$dump" \
    >"$work/vk_layer_settings.txt"
  VK_LAYER_SETTINGS_PATH="$work" app threads 1
  check "$dump" --written-at vkDestroyDevice
  rm -f "$dump" "$work/vk_layer_settings.txt"
  STATS_DUMP_APP_SETTING="stats_json_file=$dump" app threads 0
  check "$dump" --written-at vkDestroyDevice
  rm -f "$dump"
  STATS_DUMP_APP_SETTING="stats_interval=5" VK_SUBALLOC_STATS_JSON_FILE="$dump" app threads 1
}

# The dump lands as a new file: a link at its name is replaced, not written
# through; the file has mode 0644 (under umask 022); no temporary file stays.
case_file_safety() {
  umask 022
  echo "keep me" >"$work/victim.txt"
  ln -s "$work/victim.txt" "$dump"
  VK_SUBALLOC_STATS_JSON_FILE="$dump" app threads 0
  [ "$(cat "$work/victim.txt")" = "keep me" ] || fail "the dump was written through a symbolic link"
  [ -f "$dump" ] && [ ! -L "$dump" ] || fail "$dump is not a regular file after the dump"
  [ "$(stat -c %a "$dump")" = 644 ] || fail "the dump has mode $(stat -c %a "$dump"), expected 644"
  check "$dump" --written-at vkDestroyDevice
  local left
  left=$(cd "$work" && ls -A | grep -v -E '^(dump\.json|dump\.png|dump\.svg|victim\.txt|stdout|stderr)$')
  [ -z "$left" ] || fail "files left behind: $left"
}

[ $# -eq 1 ] || { echo "usage: $0 CASE" >&2; exit 2; }
declare -F "case_$1" >/dev/null || { echo "dump_test: no case '$1'" >&2; exit 2; }
"case_$1"
echo "PASS: $1"
