#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Instructions per vkAllocateMemory+vkFreeMemory pair (4 KiB, from a block
# that holds one other allocation), per vkBindBufferMemory and per
# vkMapMemory+vkUnmapMemory pair, without the layer and through it, counted by callgrind inside layer_bench's
# own timed loops (one copy per side). Timings on a shared machine move by 2x
# from run to run; these counts do not, so they show what a change to the
# layer's hot paths costs. (The no-layer alloc+free column is glibc's malloc,
# whose path depends on the heap's state: it moves from process to process.)
#
# Usage: bench/call_instructions.sh [build folder]   (needs valgrind)
set -eu
build=${1:-build}
bench="$build/bench/layer_bench"
if ! command -v valgrind >/dev/null 2>&1; then
    echo "call_instructions: needs valgrind (apt-get install valgrind)" >&2
    exit 2
fi
if [ ! -x "$bench" ]; then
    echo "call_instructions: no $bench; build first (cmake --build $build)" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rounds=4
batch=256
valgrind --tool=callgrind --callgrind-out-file="$work/out" \
    --toggle-collect='pair_loop_*' --toggle-collect='bind_loop_*' --toggle-collect='map_loop_*' \
    "$bench" --only counted --rounds "$rounds" --batch "$batch" >"$work/bench.txt" 2>"$work/valgrind.txt" || {
    cat "$work/valgrind.txt" >&2
    exit 1
}
callgrind_annotate --inclusive=yes --threshold=100 "$work/out" >"$work/annotate.txt"
calls=$(((rounds + 1) * batch)) # the rounds, and run_row's warm-up round

# The inclusive instruction count of one loop function, per call it made.
per_call() {
    awk -v fn=":$1 " -v calls="$calls" 'index($0, fn) { gsub(",", "", $1); printf "%.0f", $1 / calls; found = 1; exit }
        END { if (!found) printf "?" }' "$work/annotate.txt"
}

echo "| instructions per call (callgrind) | no layer | layer passthrough | layer | layer / no layer |"
echo "|---|---:|---:|---:|---:|"
for row in "vkAllocateMemory+vkFreeMemory 4 KiB:pair_loop" "vkBindBufferMemory:bind_loop" \
    "vkMapMemory+vkUnmapMemory:map_loop"; do
    label=${row%%:*}
    loop=${row#*:}
    none=$(per_call "${loop}_no_layer")
    passthrough=$(per_call "${loop}_passthrough")
    layer=$(per_call "${loop}_layer")
    ratio=$(awk -v a="$layer" -v b="$none" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "?" }')
    echo "| $label | $none | $passthrough | $layer | $ratio |"
done
