#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The project's test command: installs the Debian packages, then builds and runs
# every test the way CI does:
#   normal   build/        every ctest (unit, integration on lavapipe, the strict
#                          oracle, validation above and below the layer, settings,
#                          launcher, robustness)
#   asan     build-asan/   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan     build-tsan/   the threaded tests (ctest -L threads) under ThreadSanitizer
#   fuzz     build-fuzz/   each libFuzzer target for FUZZ_SECONDS (default 60): the
#                          offset allocator, the settings parser, and the layer
#                          itself through the loader (fuzz_layer)
# Pick stages with arguments, e.g. `scripts/test.sh normal tsan`; none means all.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-60}
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(normal asan tsan fuzz package)

"$root/scripts/install-deps.sh"

# Vulkan tools want a runtime dir; the tests pin lavapipe themselves.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$root/build/xdg-runtime}"
mkdir -p "$XDG_RUNTIME_DIR"

configure_and_build() { # dir, extra cmake args...
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" "$@"
  cmake --build "$dir" -j "$jobs"
}

run_ctest() { # dir, extra ctest args...
  local dir=$1
  shift
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@"
}

# package  build-package/  a layer-only build, its installs, and its Debian package
# installed, used and purged (scripts/package-test.sh; the apt-get part needs root
# and is skipped without it).
stage_package() {
  "$root/scripts/package-test.sh" "$root/build-package"
}

stage_normal() {
  "$root/scripts/check-format.sh"
  configure_and_build "$root/build"
  run_ctest "$root/build"
}

# The sanitizers watch this project's code: the chains without the layer (none,
# strict_only) and the ones whose extra layer is validation's, the GL tests on
# zink, the media players and the margin and memory re-runs add little to what
# the plain and strict chains show, and would double CI's time. They run in the
# normal stage. vulkaninfo and vkcube still load the sanitized layer here.
asan_excluded_labels="no_asan|piglit|margins|none|validation_above|validation_below|strict_only"
asan_excluded_tests="clients_(mpv|ffmpeg|zink)"

stage_asan() {
  configure_and_build "$root/build-asan" -DSUBALLOC_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug
  # Modules stay loaded until exit, so LeakSanitizer can see what the driver's
  # globals hold (tests/sanitizers/keep_modules_loaded.c says why); the preload
  # comes before the ASan runtime, which is harmless as it defines no allocator.
  LD_PRELOAD="$root/build-asan/tests/sanitizers/libkeep_modules_loaded.so${LD_PRELOAD:+:$LD_PRELOAD}" \
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:verify_asan_link_order=0:${ASAN_OPTIONS:-}" \
  LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
    run_ctest "$root/build-asan" -LE "$asan_excluded_labels" -E "$asan_excluded_tests"
}

stage_tsan() {
  configure_and_build "$root/build-tsan" -DSUBALLOC_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp:${TSAN_OPTIONS:-}" \
    run_ctest "$root/build-tsan" -L threads
}

stage_fuzz() {
  CC=clang cmake -S "$root" -B "$root/build-fuzz" -DSUBALLOC_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build "$root/build-fuzz" -j "$jobs" --target fuzz_offset_allocator fuzz_settings fuzz_layer
  local target
  for target in "$root"/build-fuzz/tests/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    local name corpus
    name=$(basename "$target")
    corpus="$root/build-fuzz/corpus-$name"
    mkdir -p "$corpus"
    echo "+ $name for ${fuzz_seconds}s"
    local seeds=()
    [ -d "$root/tests/fuzz/seeds/$name" ] && seeds=("$root/tests/fuzz/seeds/$name")
    local log="$root/build-fuzz/$name.log"
    # A finding's own line (fuzz_layer: FINDING ...) comes before libFuzzer's
    # stack trace: show it, not only the tail.
    if ! "$target" -max_total_time="$fuzz_seconds" -print_final_stats=1 -artifact_prefix="$root/build-fuzz/" \
        "$corpus" "${seeds[@]}" > "$log" 2>&1; then
      grep -E "FINDING|ERROR|runtime error" "$log" | head -n 5
      tail -n 15 "$log"
      echo "$name failed; the input is in $root/build-fuzz/ (crash-*), the whole output in $log" >&2
      return 1
    fi
    tail -n 15 "$log"
  done
}

for stage in "${stages[@]}"; do
  echo "=== stage: $stage"
  case "$stage" in
    normal | asan | tsan | fuzz | package) "stage_$stage" ;;
    *) echo "unknown stage '$stage' (normal, asan, tsan, fuzz, package)" >&2; exit 2 ;;
  esac
done
echo "=== all stages passed: ${stages[*]}"
