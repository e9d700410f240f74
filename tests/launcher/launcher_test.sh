#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# launcher_test.sh CASE: one rule of suballoc-run, proven from the outside.
#
# Every case starts from an environment with no Vulkan layer settings at all,
# as a user's shell would be, and adds only what the case is about. Where the
# layer must be on, the run goes through tests/run_in_chain.sh, which fails
# unless the loader's own "vkCreateDevice layer callstack" is the expected one;
# the layer's statistics line then says what it did.
#
# Needs in the environment (tests/launcher/CMakeLists.txt sets them):
#   SUBALLOC_RUN, SUBALLOC_DEMO, RUN_IN_CHAIN, VALIDATION_DIR, TEST_ICD,
#   and for some cases STRICT_DIR, CMAKE_COMMAND, BUILD_DIR.
set -u

layer=VK_LAYER_TRANSPARENT_suballoc
validation=VK_LAYER_KHRONOS_validation
strict=VK_LAYER_TEST_strict_device

work=$(mktemp -d "${TMPDIR:-/tmp}/launcher_test.XXXXXX")
trap 'rm -rf "$work"' EXIT
out="$work/stdout"
err="$work/stderr"
stats="$work/stats"
status=0

fail() {
  echo "FAIL: $*" >&2
  echo "--- stdout of the last run:" >&2; cat "$out" >&2 2>/dev/null
  echo "--- stderr of the last run:" >&2; cat "$err" >&2 2>/dev/null
  echo "--- stats file:" >&2; cat "$stats" >&2 2>/dev/null
  exit 1
}

# A user's shell: a driver and a runtime dir, no layer variables, no layer settings.
clean_environment() {
  unset VK_LAYER_PATH VK_ADD_LAYER_PATH VK_INSTANCE_LAYERS VK_LOADER_LAYERS_ENABLE \
        VK_LOADER_LAYERS_DISABLE VK_LOADER_DEBUG ENABLE_TRANSPARENT_SUBALLOC \
        DISABLE_TRANSPARENT_SUBALLOC VK_LAYER_SETTINGS_PATH
  local name
  for name in $(compgen -e); do
    case "$name" in VK_TRANSPARENT_SUBALLOC_*|VK_SUBALLOC_*) unset "$name" ;; esac
  done
  if [ -n "${TEST_ICD:-}" ]; then
    export VK_DRIVER_FILES="$TEST_ICD" VK_ICD_FILENAMES="$TEST_ICD"
  fi
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$work}"
}

run() { # run CMD...: stdout, stderr and exit status into $out, $err, $status
  "$@" >"$out" 2>"$err"
  status=$?
}

# run_in_chain EXPECTED_CHAIN CMD...: run, proving the device layer chain.
run_chain() {
  local expect=$1; shift
  run "$RUN_IN_CHAIN" --expect "$expect" -- "$@"
  if grep -q "^run_in_chain:" "$err"; then fail "layer chain is not '$expect'"; fi
}

expect_status() { [ "$status" -eq "$1" ] || fail "exit status $status, expected $1"; }
expect_stdout() { grep -qF -- "$1" "$out" || fail "stdout lacks '$1'"; }
expect_stderr() { grep -qF -- "$1" "$err" || fail "stderr lacks '$1'"; }

stats_lines() { grep -c '^suballoc_stats ' "$stats" 2>/dev/null || true; }

# stat NAME [LINE]: a field of the LINE-th (default last) statistics line.
stat() {
  local line
  if [ $# -ge 2 ]; then line=$(grep '^suballoc_stats ' "$stats" | sed -n "$2p")
  else line=$(grep '^suballoc_stats ' "$stats" | tail -n 1); fi
  [ -n "$line" ] || fail "no statistics line in the stats file"
  local value
  value=$(printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p")
  [ -n "$value" ] || fail "statistics line has no field $1: $line"
  printf '%s\n' "$value"
}

# The layer served the demo's allocations from few driver allocations.
expect_suballocated() { # APP_ALLOCATIONS
  [ "$(stats_lines)" -eq 1 ] || fail "expected one statistics line (one device), found $(stats_lines)"
  [ "$(stat mode)" = suballocate ] || fail "mode is $(stat mode), expected suballocate"
  [ "$(stat app_allocations)" -eq "$1" ] || fail "app_allocations $(stat app_allocations), expected $1"
  local driver
  driver=$(stat driver_allocations)
  [ "$driver" -ge 1 ] && [ $((driver * 20)) -le "$1" ] ||
    fail "driver_allocations $driver is not far below $1 app allocations"
}

# "1 driver allocation", "2 driver allocations": the summary counts in plain words.
counted() { # N THING
  if [ "$1" -eq 1 ]; then printf '%s %s\n' "$1" "$2"; else printf '%s %ss\n' "$1" "$2"; fi
}

expect_summary_for() { # APP_ALLOCATIONS
  expect_stderr "suballoc-run:   $(counted "$1" "app allocation") -> $(counted "$(stat driver_allocations)" "driver allocation") ("
}

# ---- cases -------------------------------------------------------------

# With no Vulkan variable set, the launcher alone puts the layer in the chain.
case_switches_layer_on() {
  run_chain "$layer" "$SUBALLOC_RUN" --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 2000
  expect_status 0
  expect_stdout "results verified"
  expect_suballocated 2000
  expect_summary_for 2000
  expect_stderr "peak bytes:"
}

# Layers the user enabled through VK_LAYER_PATH still load, below the layer;
# the validation layer there sees what the layer sends the driver and reports
# nothing (the demo fails on any validation message).
case_keeps_layer_path_layers() {
  export VK_LAYER_PATH="$VALIDATION_DIR" VK_INSTANCE_LAYERS="$validation"
  run_chain "$layer,$validation" "$SUBALLOC_RUN" --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 1000
  expect_status 0
  expect_stdout "results verified"
  expect_suballocated 1000
}

# Layers found through the loader's usual search (here XDG_DATA_DIRS) still
# load when VK_LAYER_PATH is unset and the launcher uses VK_ADD_LAYER_PATH.
case_keeps_searched_layers() {
  case "$VALIDATION_DIR" in
    */vulkan/explicit_layer.d) export XDG_DATA_DIRS="${VALIDATION_DIR%/vulkan/explicit_layer.d}" ;;
    *) echo "SKIP: $VALIDATION_DIR is not a <data dir>/vulkan/explicit_layer.d folder"; exit 0 ;;
  esac
  export VK_INSTANCE_LAYERS="$validation"
  run_chain "$layer,$validation" "$SUBALLOC_RUN" --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 1000
  expect_status 0
  expect_stdout "results verified"
  expect_suballocated 1000
}

# --mode passthrough reaches the layer: it stays loaded and sends every
# allocation to the driver.
case_mode_passthrough() {
  run_chain "$layer" "$SUBALLOC_RUN" --mode passthrough --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 500
  expect_status 0
  expect_stdout "results verified"
  [ "$(stat mode)" = passthrough ] || fail "mode is $(stat mode), expected passthrough"
  [ "$(stat app_allocations)" -eq 500 ] || fail "app_allocations $(stat app_allocations), expected 500"
  [ "$(stat driver_allocations)" -eq "$(stat app_allocations)" ] ||
    fail "driver_allocations $(stat driver_allocations) != app_allocations in passthrough mode"
  expect_stderr "(mode=passthrough)"
}

# --set NAME=VALUE passes any setting through as VK_TRANSPARENT_SUBALLOC_<NAME>.
case_set_passes_settings() {
  run_chain "$layer" "$SUBALLOC_RUN" --set mode=passthrough --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 300
  expect_status 0
  [ "$(stat mode)" = passthrough ] || fail "--set mode=passthrough did not reach the layer (mode=$(stat mode))"
  [ "$(stat driver_allocations)" -eq 300 ] || fail "driver_allocations $(stat driver_allocations), expected 300"
  # And the value arrives as the environment variable the layer reads.
  run "$SUBALLOC_RUN" --quiet --set dedicated_threshold=8M -- sh -c 'printf "%s" "$VK_TRANSPARENT_SUBALLOC_DEDICATED_THRESHOLD"'
  expect_status 0
  [ "$(cat "$out")" = 8M ] || fail "--set dedicated_threshold=8M gave '$(cat "$out")'"
}

# --block-size caps the blocks: 2000 demo allocations (about 5.5 MiB) need
# several 1 MiB blocks, none bigger.
case_block_size() {
  run_chain "$layer" "$SUBALLOC_RUN" --block-size 1M --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 2000
  expect_status 0
  expect_stdout "results verified"
  local blocks bytes
  blocks=$(stat blocks_peak)
  bytes=$(stat bytes_in_blocks_peak)
  [ "$blocks" -ge 5 ] || fail "blocks_peak $blocks: 1 MiB blocks cannot hold 5.5 MiB in fewer than 5"
  [ "$bytes" -le $((blocks * 1048576)) ] || fail "bytes_in_blocks_peak $bytes exceeds $blocks blocks of 1 MiB"
}

# The program's exit status comes back unchanged, with and without Vulkan,
# and the summary is still printed when the program fails.
case_passes_exit_status() {
  run "$SUBALLOC_RUN" -- sh -c 'exit 42'
  expect_status 42
  expect_stderr "no statistics"
  run "$SUBALLOC_RUN" -- sh -c 'kill -TERM $$'
  expect_status 143
  run_chain "$layer" "$SUBALLOC_RUN" --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 200 --inject-mismatch
  expect_status 1
  expect_stderr "results NOT verified"
  expect_summary_for 200
  run "$SUBALLOC_RUN" --quiet -- sh -c 'exit 3'
  expect_status 3
  [ ! -s "$err" ] || fail "--quiet printed on stderr"
}

# Bad options are refused with a message naming the problem, before the
# program runs.
case_rejects_bad_options() {
  local ran="$work/ran"
  run "$SUBALLOC_RUN" --bogus -- touch "$ran"
  expect_status 2; expect_stderr "unknown option '--bogus'"; expect_stderr "--help"
  run "$SUBALLOC_RUN" --mode fast -- touch "$ran"
  expect_status 2; expect_stderr "invalid --mode 'fast' (expected suballocate or passthrough)"
  run "$SUBALLOC_RUN" --block-size lots -- touch "$ran"
  expect_status 2; expect_stderr "invalid --block-size 'lots'"
  run "$SUBALLOC_RUN" --log-level loud -- touch "$ran"
  expect_status 2; expect_stderr "invalid --log-level 'loud'"
  run "$SUBALLOC_RUN" --set novalue -- touch "$ran"
  expect_status 2; expect_stderr "invalid --set 'novalue'"
  run "$SUBALLOC_RUN" --stats-file
  expect_status 2; expect_stderr "option '--stats-file' needs a value"
  run "$SUBALLOC_RUN" --stats-json "" -- touch "$ran"
  expect_status 2; expect_stderr "--stats-json needs a file name"
  run "$SUBALLOC_RUN" --stats-interval 0 -- touch "$ran"
  expect_status 2; expect_stderr "invalid --stats-interval '0' (expected seconds, 1 to 86400)"
  run "$SUBALLOC_RUN" --stats-interval 86401 -- touch "$ran"
  expect_status 2; expect_stderr "invalid --stats-interval '86401'"
  run "$SUBALLOC_RUN" --picture blocks.jpg -- touch "$ran"
  expect_status 2; expect_stderr "invalid --picture 'blocks.jpg' (expected a file name ending in .png or .svg)"
  [ ! -e "$ran" ] || fail "the program ran despite a bad option"
  run "$SUBALLOC_RUN" --
  expect_status 2; expect_stderr "no program to run"
  run "$SUBALLOC_RUN" -- "$work/no-such-program"
  expect_status 127; expect_stderr "cannot run '$work/no-such-program'"
  run "$SUBALLOC_RUN" -- no-such-program-anywhere
  expect_status 127; expect_stderr "cannot run 'no-such-program-anywhere': command not found"
  run "$SUBALLOC_RUN" --help
  expect_status 0; expect_stdout "Usage: suballoc-run"; expect_stdout "--check"
  # Implicit layers may sit nearer the program: the help must not promise otherwise.
  expect_stdout "Implicit layers (MangoHud"
  grep -q "sits nearest the program" "$out" && fail "the help says the layer always sits nearest the program"
}

# --stats-file keeps every line (appended), and the summary covers this run only.
case_keeps_stats_file() {
  echo 'suballoc_stats device="earlier run" mode=suballocate app_allocations=7 app_live_peak=7 app_leaked=0 suballocated=7 passthrough=0 driver_allocations=1 driver_live_peak=1 blocks_peak=1 bytes_requested_peak=7 bytes_in_blocks_peak=7' >"$stats"
  run_chain "$layer" "$SUBALLOC_RUN" --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 400
  expect_status 0
  [ "$(stats_lines)" -eq 2 ] || fail "expected the earlier line plus one new one, found $(stats_lines)"
  [ "$(stat app_allocations 1)" -eq 7 ] || fail "the earlier line was changed"
  [ "$(stat app_allocations 2)" -eq 400 ] || fail "new line has app_allocations $(stat app_allocations 2)"
  grep -qF "earlier run" "$err" && fail "the summary repeated a line from an earlier run"
  expect_summary_for 400
}

# --log-level reaches the layer: at debug its reports reach the app's
# debug-utils messenger (the demo prints them with --verbose), at error it has
# nothing to report for a healthy run.
case_log_level() {
  run_chain "$layer" "$SUBALLOC_RUN" --log-level debug -- "$SUBALLOC_DEMO" --count 100 --verbose
  expect_status 0
  expect_stderr "suballoc-demo: info: [TRANSPARENT-suballoc"
  run_chain "$layer" "$SUBALLOC_RUN" --log-level error -- "$SUBALLOC_DEMO" --count 100 --verbose
  expect_status 0
  grep -qF "[TRANSPARENT-suballoc" "$err" && fail "--log-level error still let info messages through"
  return 0
}

# An app without a debug-utils messenger (vulkaninfo) gets the layer's reports
# on stderr as "suballoc: " lines, filtered by --log-level the same way.
case_log_level_to_stderr() {
  run_chain "$layer" "$SUBALLOC_RUN" --log-level debug -- vulkaninfo --summary
  expect_status 0
  expect_stderr "suballoc: info: "
  run_chain "$layer" "$SUBALLOC_RUN" --log-level error -- vulkaninfo --summary
  expect_status 0
  grep -q '^suballoc: ' "$err" && fail "--log-level error still printed layer lines"
  return 0
}

# The installed copy finds <prefix>/share/vulkan/explicit_layer.d relative to
# itself, also when called through a symlink from elsewhere.
case_installed_copy() {
  local prefix="$work/prefix"
  "$CMAKE_COMMAND" --install "$BUILD_DIR" --prefix "$prefix" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "cmake --install failed"; }
  [ -x "$prefix/bin/suballoc-run" ] || fail "no $prefix/bin/suballoc-run after install"
  [ -x "$prefix/bin/suballoc-picture" ] || fail "no $prefix/bin/suballoc-picture beside it after install"
  [ ! -e "$prefix/bin/suballoc-demo" ] || fail "the demo was installed into bin/ (only SUBALLOC_INSTALL_DEMO does that)"
  mkdir -p "$work/elsewhere"
  ln -s "$prefix/bin/suballoc-run" "$work/elsewhere/suballoc-run"
  run_chain "$layer" "$work/elsewhere/suballoc-run" --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 1000
  expect_status 0
  expect_stdout "results verified"
  expect_suballocated 1000
  # --check from the installed copy names the installed manifest, by a path
  # without "..", listed once.
  run "$work/elsewhere/suballoc-run" --check
  expect_status 0
  expect_stdout "manifest: $(cd "$prefix" && pwd -P)/share/vulkan/explicit_layer.d/VkLayer_TRANSPARENT_suballoc.json (explicit layer)"
  expect_stdout "listed once by the loader"
}

# --check: the loader finds the layer through the launcher, from the build
# tree's manifest, once, and the layer is the device layer nearest the program.
case_check_finds_layer() {
  run "$SUBALLOC_RUN" --check
  expect_status 0
  expect_stdout "the Vulkan loader finds and loads $layer"
  expect_stdout "manifest: $BUILD_DIR/json/explicit/VkLayer_TRANSPARENT_suballoc.json (explicit layer)"
  expect_stdout "library:  $BUILD_DIR/layer/libVkLayer_TRANSPARENT_suballoc.so"
  expect_stdout "listed once by the loader"
  expect_stdout "* $layer (explicit)"
  expect_stdout "$layer is the device layer nearest the program"
  run "$SUBALLOC_RUN" --check -- true
  expect_status 2
  expect_stderr "--check runs no program"
}

# --check when the loader does not load the layer (switched off by the
# loader's filter): a clear error, status 1, where the loader says nothing.
case_check_reports_missing_layer() {
  export VK_LOADER_LAYERS_DISABLE="$layer"
  run "$SUBALLOC_RUN" --check
  expect_status 1
  expect_stderr "error: the Vulkan loader did not load $layer"
  expect_stderr "VK_LOADER_LAYERS_DISABLE=$layer may switch it off"
  unset VK_LOADER_LAYERS_DISABLE
  # A manifest whose library is gone: the loader skips the layer silently too.
  mkdir -p "$work/broken"
  sed 's|"library_path": "[^"]*"|"library_path": "/nonexistent/libVkLayer_TRANSPARENT_suballoc.so"|' \
    "$BUILD_DIR/json/explicit/VkLayer_TRANSPARENT_suballoc.json" >"$work/broken/VkLayer_TRANSPARENT_suballoc.json"
  sed "s|^layer_dir_absolute=.*|layer_dir_absolute=\"$work/broken\"|" "$SUBALLOC_RUN" >"$work/suballoc-run-broken"
  chmod +x "$work/suballoc-run-broken"
  run "$work/suballoc-run-broken" --check
  expect_status 1
  expect_stderr "error: the Vulkan loader did not load $layer"
  expect_stderr "manifests the loader found that name the layer: $work/broken/VkLayer_TRANSPARENT_suballoc.json"
}

# --check sees what the help says: an implicit layer (here the strict device,
# installed as one for this case) sits above the layer, nearer the program;
# and a second manifest of the layer (the implicit one, beside the explicit
# one the launcher uses) makes the loader list it twice.
case_check_shows_implicit_layers_and_duplicates() {
  local home="$work/home"
  mkdir -p "$home/vulkan/implicit_layer.d"
  sed 's|"description"|"enable_environment": { "ENABLE_STRICT_FOR_TEST": "1" }, "disable_environment": { "DISABLE_STRICT_FOR_TEST": "1" }, "description"|' \
    "$STRICT_DIR/VkLayer_TEST_strict_device.json" >"$home/vulkan/implicit_layer.d/VkLayer_TEST_strict_device.json"
  export XDG_DATA_HOME="$home" ENABLE_STRICT_FOR_TEST=1 STRICT_DEVICE_VIOLATIONS=count
  run "$SUBALLOC_RUN" --check
  expect_status 0
  expect_stdout "  $strict (implicit)"
  expect_stdout "device layers, the program first: $strict -> $layer -> "
  expect_stdout "above $layer, nearer the program: $strict"
  expect_stdout "listed once by the loader"
  cp "$BUILD_DIR/json/implicit/VkLayer_TRANSPARENT_suballoc.json" "$home/vulkan/implicit_layer.d/"
  run "$SUBALLOC_RUN" --check
  expect_status 0
  expect_stdout "warning: the loader lists the layer 2 times"
  expect_stdout "$home/vulkan/implicit_layer.d/VkLayer_TRANSPARENT_suballoc.json"
}

# On a hardware-shaped device (4096 live allocations at most) the demo's 5000
# allocations fail without the layer and succeed through the launcher.
case_lifts_allocation_limit() {
  export VK_LAYER_PATH="$STRICT_DIR" VK_INSTANCE_LAYERS="$strict" STRICT_DEVICE_VIOLATIONS=count
  run_chain "$strict" "$SUBALLOC_DEMO" --count 5000
  expect_status 1
  expect_stderr "VK_ERROR_TOO_MANY_OBJECTS"
  unset STRICT_DEVICE_VIOLATIONS
  : >"$stats"
  run_chain "$layer,$strict" "$SUBALLOC_RUN" --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 5000
  expect_status 0
  expect_stdout "results verified"
  expect_suballocated 5000
}

# --stats-json and --picture: the layer's dump where asked, drawn at the end;
# with --picture alone the dump is a temporary one. The summary says
# "1 driver allocation", singular, where there is one.
case_stats_json_and_picture() {
  run_chain "$layer" "$SUBALLOC_RUN" --stats-file "$stats" --stats-json "$work/dump.json" --picture "$work/blocks.png" \
    -- "$SUBALLOC_DEMO" --count 300
  expect_status 0
  [ -s "$work/dump.json" ] || fail "no dump at $work/dump.json"
  grep -q '"API": "Vulkan"' "$work/dump.json" || fail "the dump is not a Vulkan memory dump"
  head -c 8 "$work/blocks.png" | od -An -c | grep -q 'P   N   G' || fail "no PNG at $work/blocks.png"
  expect_stderr "suballoc-run: picture of the blocks: $work/blocks.png (from $work/dump.json)"
  [ "$(stat driver_allocations)" -eq 1 ] || fail "expected one driver allocation for 300 small ones"
  expect_stderr "300 app allocations -> 1 driver allocation (300 sub-allocated"
  expect_stderr "on 1 driver allocation (1 block)"
  run_chain "$layer" "$SUBALLOC_RUN" --picture "$work/only.svg" -- "$SUBALLOC_DEMO" --count 100
  expect_status 0
  grep -q '<svg' "$work/only.svg" || fail "no SVG at $work/only.svg"
  expect_stderr "suballoc-run: picture of the blocks: $work/only.svg (from "
  # A dump that was there before and is not rewritten is not drawn again.
  run "$SUBALLOC_RUN" --stats-json "$work/dump.json" --picture "$work/again.png" -- true
  expect_status 0
  [ ! -e "$work/again.png" ] || fail "a stale dump was drawn"
  expect_stderr "no picture: the layer wrote no JSON dump"
}

# A short demo run through the launcher, as scripts/demo.sh does it.
case_demo() {
  run_chain "$layer" "$SUBALLOC_RUN" --stats-file "$stats" -- "$SUBALLOC_DEMO" --count 5000
  expect_status 0
  expect_stdout "5000 vkAllocateMemory calls"
  expect_stdout "results verified"
  expect_suballocated 5000
  expect_summary_for 5000
}

[ $# -eq 1 ] || { echo "usage: $0 CASE" >&2; exit 2; }
declare -F "case_$1" >/dev/null || { echo "launcher_test: no case '$1'" >&2; exit 2; }
clean_environment
"case_$1"
echo "PASS: $1"
