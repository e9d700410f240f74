#!/usr/bin/env bash
# The first thing to run: installs the Debian packages, builds everything into
# build/, then runs the bundled demo (a naive engine making 50,000 allocations)
# through the layer on lavapipe, Mesa's CPU Vulkan driver, so it works on any
# machine. Arguments go to the demo, e.g. scripts/demo.sh --count 100000.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build"
cmake --build "$build" -j "$(nproc)"

# Vulkan tools want a runtime dir; lavapipe unless the caller picked a driver.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="$build/xdg-runtime"
  mkdir -p "$XDG_RUNTIME_DIR"
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  export VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
fi

stats=$(mktemp "${TMPDIR:-/tmp}/suballoc-demo-stats.XXXXXX")
output=$(mktemp "${TMPDIR:-/tmp}/suballoc-demo-output.XXXXXX")
trap 'rm -f "$stats" "$output"' EXIT

echo "+ suballoc-run -- suballoc-demo${*:+ $*}"
status=0
"$build/launcher/suballoc-run" --stats-file "$stats" -- "$build/demo/suballoc-demo" "$@" | tee "$output" \
  || status=${PIPESTATUS[0]}

# One headline from the layer's statistics and the demo's own check.
verdict="results NOT verified"
grep -q "results verified" "$output" && verdict="results verified"
awk -v verdict="$verdict" '/^suballoc_stats / {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "\n%s app allocations -> %s driver allocations, %s\n", v["app_allocations"], v["driver_allocations"], verdict
  }' "$stats"
exit "$status"
