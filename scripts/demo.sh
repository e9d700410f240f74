#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The first thing to run: installs the Debian packages the demo needs, builds
# what it needs into build/, then shows the problem and the fix on lavapipe
# (Mesa's CPU Vulkan driver, so it works on any machine) made to look like a GPU
# by the test-only strict device layer, which allows 4096 live allocations, as
# many drivers do:
#   1. the demo (a naive engine making 50,000 allocations) WITHOUT the layer: it
#      fails at allocation 4097, as apps do on real drivers;
#   2. the same demo WITH the layer: it succeeds on a handful of driver
#      allocations; the layer's JSON dump and pictures of its blocks go to
#      build/demo-output/.
# Arguments go to the demo, e.g. scripts/demo.sh --count 100000.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"

"$root/scripts/install-deps.sh" demo
cmake -S "$root" -B "$build"
# Only what the demo needs: the layer, the strict device that makes lavapipe
# look like a GPU, and the demo (the launcher, suballoc-picture and the
# manifests are made when cmake configures).
cmake --build "$build" -j "$(nproc)" --target VkLayer_TRANSPARENT_suballoc VkLayer_TEST_strict_device suballoc-demo

# Vulkan tools want a runtime dir; lavapipe unless the caller picked a driver.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="$build/xdg-runtime"
  mkdir -p "$XDG_RUNTIME_DIR"
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  export VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
fi

demo="$build/demo/suballoc-demo"
output="$build/demo-output"
mkdir -p "$output"
rm -f "$output"/*.json "$output"/*.png "$output"/*.txt
stats="$output/stats.txt"
dump="$output/dump.json"
log="$output/demo-output.txt"

# A GPU-shaped device: the strict layer between the app (or the layer) and lavapipe.
export VK_LAYER_PATH="$build/tests/strict_layer/json"
export VK_INSTANCE_LAYERS=VK_LAYER_TEST_strict_device
limit=4096

echo
echo "=== 1. The demo WITHOUT the layer, on a device that allows $limit live allocations ==="
echo "+ suballoc-demo${*:+ $*}"
status=0
STRICT_DEVICE_VIOLATIONS=count "$demo" "$@" >"$log" 2>&1 || status=$?
grep -v '^strict_device: VIOLATION' "$log" || true
if [ "$status" -ne 0 ]; then
  echo
  echo "WITHOUT THE LAYER THE DEMO FAILED (exit status $status): the driver refuses allocation $((limit + 1)),"
  echo "as real drivers with maxMemoryAllocationCount $limit do (many Windows drivers and mobile GPUs)."
else
  echo
  echo "Without the layer the demo passed: with these arguments it stays within $limit allocations."
fi

echo
echo "=== 2. The same demo WITH the layer (suballoc-run), on the same device ==="
echo "+ suballoc-run --stats-json $dump --stats-interval 1 --picture $output/blocks-at-end.png -- suballoc-demo --hold 2${*:+ $*}"
# The layer rewrites the dump every second while the demo runs; keep the
# fullest one seen (the dump written at vkDestroyDevice shows the demo's end,
# when it has freed everything).
running="$output/dump-while-running.json"
keep_fullest() {
  local best=-1 count
  while :; do
    if cp "$dump" "$output/.candidate" 2>/dev/null && grep -q '"WrittenAt": "interval"' "$output/.candidate"; then
      count=$(grep -m1 '"AllocationCount"' "$output/.candidate" | tr -dc '0-9')
      if [ -n "$count" ] && [ "$count" -gt "$best" ]; then
        best=$count
        mv "$output/.candidate" "$running"
      fi
    fi
    sleep 0.3
  done
}
keep_fullest &
keeper=$!
status=0
"$build/launcher/suballoc-run" --stats-file "$stats" --stats-json "$dump" --stats-interval 1 \
  --picture "$output/blocks-at-end.png" -- "$demo" --hold 2 "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
kill "$keeper" 2>/dev/null || true
wait "$keeper" 2>/dev/null || true
rm -f "$output/.candidate"

verdict="results NOT verified"
grep -q "results verified" "$log" && verdict="results verified"
echo
if [ "$status" -eq 0 ]; then
  echo "WITH THE LAYER THE DEMO SUCCEEDED on the device that refused it above:"
else
  echo "With the layer the demo FAILED too (exit status $status): see above."
fi
awk -v verdict="$verdict" '
  function counted(n, thing) { n += 0; return n " " thing (n == 1 ? "" : "s") }
  /^suballoc_stats / {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%s -> %s, %s\n", counted(v["app_allocations"], "app allocation"),
           counted(v["driver_allocations"], "driver allocation"), verdict
  }' "$stats"

echo
echo "What the layer wrote (build/demo-output/):"
echo "  statistics line:                $stats"
echo "  JSON dump at vkDestroyDevice:   $dump"
if [ -s "$running" ]; then
  "$build/launcher/suballoc-picture" "$running" "$output/blocks-while-running.png" >/dev/null &&
    echo "  JSON dump while the demo ran:   $running"
  [ -s "$output/blocks-while-running.png" ] &&
    echo "  picture while the demo ran:     $output/blocks-while-running.png"
fi
[ -s "$output/blocks-at-end.png" ] && echo "  picture at the end:             $output/blocks-at-end.png"
echo "Draw any dump yourself: $build/launcher/suballoc-picture DUMP.json OUT.png (or OUT.svg)"
exit "$status"
