#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_piglit.sh [--record] LIST
#
# Runs the piglit OpenGL tests of LIST on zink (Mesa's OpenGL on Vulkan) through
# the Vulkan chain under test, on a private Xvfb display, and compares each
# result with the one LIST expects: what the test gives on lavapipe alone. A
# Vulkan layer that keeps valid programs' results (the strict device, the
# sub-allocation layer) changes none of them.
#
# LIST: one test a line, tab-separated: <expected result> <test name> <command...>;
# '#' starts a comment. --record runs the same tests and prints LIST again with
# the results seen, to refresh it (on the "none" chain, lavapipe alone).
#
# Fails when a result differs, when a program printed a strict-device violation,
# a validation message or a message of the layer, or, with the layer, when its
# stats lines report leaked allocations. A missing piglit, Xvfb or zink fails
# loudly: the test is there to run, not to be skipped.
#
# Environment: SUBALLOC_TEST_CHAIN (chain name, see tests/CMakeLists.txt);
# PIGLIT_BIN_DIR (default: the Debian package's); PIGLIT_JOBS (default 2);
# PIGLIT_TIMEOUT seconds per test (default 120); SUBALLOC_CLIENT_PRELOAD, a
# sanitizer runtime the tests need to load a sanitized layer.
set -u
chain="${SUBALLOC_TEST_CHAIN:-none}"
fail() {
  echo "run_piglit ($chain): $*" >&2
  exit 1
}
. "$(dirname "$0")/../integration/client_checks.sh"

record=0
if [ "${1:-}" = "--record" ]; then
  record=1
  shift
fi
list="${1:-}"
[ -r "$list" ] || fail "usage: run_piglit.sh [--record] LIST (cannot read '$list')"

bin_dir="${PIGLIT_BIN_DIR:-}"
if [ -z "$bin_dir" ]; then
  for dir in /usr/lib/x86_64-linux-gnu/piglit/bin /usr/lib/piglit/bin; do
    if [ -d "$dir" ]; then bin_dir="$dir"; break; fi
  done
fi
if [ -z "$bin_dir" ] || [ ! -d "$bin_dir" ]; then fail "piglit is not installed (Debian package piglit)"; fi
command -v Xvfb >/dev/null || fail "Xvfb is not installed (Debian package xvfb)"
command -v glxinfo >/dev/null || fail "glxinfo is not installed (Debian package mesa-utils)"
jobs_max="${PIGLIT_JOBS:-2}"
# A sanitized layer loads only into a program that has the sanitizer's runtime
# first: preloaded into the tests and glxinfo, never into Xvfb.
preload="${SUBALLOC_CLIENT_PRELOAD:-${LD_PRELOAD:-}}"
unset LD_PRELOAD
per_test_timeout="${PIGLIT_TIMEOUT:-120}"

# zink picks its Vulkan device by type: with LIBGL_ALWAYS_SOFTWARE=1 only a CPU
# device (lavapipe alone), without it only a GPU (the strict device reports a
# discrete GPU so that programs take their GPU paths; see strict_properties.c).
export GALLIUM_DRIVER=zink PIGLIT_PLATFORM=glx
case "$chain" in
  strict|strict_only) unset LIBGL_ALWAYS_SOFTWARE ;;
  *) export LIBGL_ALWAYS_SOFTWARE=1 ;;
esac
# Violations are counted and printed, not fatal: the comparison then shows
# what the program saw, and check_quiet below still fails the run.
export STRICT_DEVICE_VIOLATIONS=count

work=$(mktemp -d "${TMPDIR:-/tmp}/run_piglit.XXXXXX")
xvfb_pid=""
cleanup() {
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
reset_stats

# Xvfb picks a free display itself and writes its number: no races between tests.
# Its own GLX would load zink and the test's layers (or fail to, sanitized):
# it runs without the test's Vulkan and OpenGL choices.
mkfifo "$work/display"
env -u VK_INSTANCE_LAYERS -u VK_LOADER_DEBUG -u GALLIUM_DRIVER -u LIBGL_ALWAYS_SOFTWARE \
  Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
display=""
read -r -t 20 display <"$work/display" || true
[ -n "$display" ] || { cat "$work/xvfb.log" >&2; fail "Xvfb did not start"; }
export DISPLAY=":$display"

# zink must really run on this chain: on a device it cannot use, Mesa falls
# back to another driver or fails, and every test would say so differently.
# glxinfo is only this probe: it keeps no stats line, because zink destroys its
# device with one allocation still live (the strict device alone sees it too,
# with STRICT_DEVICE_CHECK_LEAKS=1), which is no layer's leak.
VK_TRANSPARENT_SUBALLOC_STATS_FILE="" LD_PRELOAD="$preload" glxinfo -B >"$work/glxinfo" 2>"$work/glxinfo.err"
grep -E 'LAYER:|\[Loader Message\]' "$work/glxinfo.err" >&2
grep -q 'OpenGL renderer string: zink' "$work/glxinfo" || {
  cat "$work/glxinfo" "$work/glxinfo.err" | grep -v -E 'LAYER:|\[Loader Message\]' | head -n 20 >&2
  fail "OpenGL does not run on zink here (LIBGL_ALWAYS_SOFTWARE=${LIBGL_ALWAYS_SOFTWARE:-unset})"
}

# One test: its output, and its result as piglit reports it. A program that
# dies before reporting is a crash, one that runs out of time a timeout. One
# that could not open the display never reached OpenGL: on a loaded machine
# that happens now and then, so it gets one more try.
run_one() {
  local index=$1 command=$2
  local out="$work/$index" status
  for _ in 1 2; do
    # Each test's stats lines apart, to tell which one leaked.
    rm -f "$out.stats"
    # shellcheck disable=SC2086 # the command's words are its arguments
    (cd "$bin_dir/.." && VK_TRANSPARENT_SUBALLOC_STATS_FILE="$out.stats" LD_PRELOAD="$preload" \
       timeout "$per_test_timeout" "$bin_dir"/$command) >"$out.out" 2>"$out.err" </dev/null
    status=$?
    grep -q 'XOpenDisplay failed' "$out.err" || break
  done
  echo "$status" >"$out.status"
  local result
  result=$(cat "$out.out" "$out.err" | sed -n 's/^PIGLIT: {"result": "\([a-z]*\)" *}.*/\1/p' | tail -n 1)
  if [ -z "$result" ]; then
    if [ $status -eq 124 ]; then result=timeout; else result=crash; fi
  fi
  echo "$result" >"$out.result"
}

expected=()
names=()
commands=()
while IFS=$'\t' read -r want name command; do
  case "$want" in ''|'#'*) continue ;; esac
  [ -n "$command" ] || fail "$list: no command for '$name'"
  expected+=("$want")
  names+=("$name")
  commands+=("$command")
done <"$list"
[ ${#names[@]} -gt 0 ] || fail "$list lists no test"

started=$(date +%s)
# At most jobs_max tests at once; wait on the tests alone (Xvfb is a child too).
pids=()
for i in "${!names[@]}"; do
  while [ ${#pids[@]} -ge "$jobs_max" ]; do
    wait -n "${pids[@]}"
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    pids=("${alive[@]}")
  done
  run_one "$i" "${commands[$i]}" &
  pids+=($!)
done
[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
elapsed=$(( $(date +%s) - started ))

# The loader's layer lines go on to run_in_chain, which checks every device's
# chain; one program's lines together, so their callstacks stay whole.
all_output="$work/all"
: >"$all_output"
stats_file="${VK_TRANSPARENT_SUBALLOC_STATS_FILE:-}"
for i in "${!names[@]}"; do
  grep -E 'LAYER:|\[Loader Message\]' "$work/$i.err" >&2
  cat "$work/$i.out" "$work/$i.err" >>"$all_output"
  if [ -n "$stats_file" ] && [ -s "$work/$i.stats" ]; then
    cat "$work/$i.stats" >>"$stats_file"
    if grep -q -v -E ' app_leaked=0( |$)' "$work/$i.stats"; then
      echo "LEAKED ${names[$i]}: the layer's stats line reports allocations live at vkDestroyDevice"
    fi
  fi
done

if [ $record -eq 1 ]; then
  echo "# Recorded on chain '$chain' ($(date -u +%Y-%m-%d)); see $(basename "$0")."
  for i in "${!names[@]}"; do
    printf '%s\t%s\t%s\n' "$(cat "$work/$i.result")" "${names[$i]}" "${commands[$i]}"
  done
  exit 0
fi

differences=0
declare -A seen=()
for i in "${!names[@]}"; do
  got=$(cat "$work/$i.result")
  seen[$got]=$(( ${seen[$got]:-0} + 1 ))
  status=$(cat "$work/$i.status")
  if [ "$status" -gt 128 ] && [ "$status" -ne 137 ]; then
    # Reported its result, then died (a signal): worth knowing, not a result.
    echo "NOTE ${names[$i]}: $got, then exit status $status"
  fi
  if [ "$got" != "${expected[$i]}" ]; then
    differences=$((differences + 1))
    echo "DIFFERENT ${names[$i]}: expected ${expected[$i]}, got $got (${commands[$i]})"
    grep -h -v -E 'LAYER:|\[Loader Message\]' "$work/$i.out" "$work/$i.err" | tail -n 8 | sed 's/^/    /'
  fi
done
summary=""
for result in "${!seen[@]}"; do summary="$summary $result=${seen[$result]}"; done
echo "run_piglit ($chain): ${#names[@]} tests in ${elapsed}s:$summary; $differences differ from the list"

check_quiet "$all_output" "piglit"
check_stats
[ $differences -eq 0 ] || fail "$differences results differ from lavapipe's (listed in $(basename "$list"))"
