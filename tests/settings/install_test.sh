#!/usr/bin/env bash
# install_test.sh BUILD_DIR WORK_DIR PROBE RUN_IN_CHAIN CHECK_MANIFEST CATALOG
#
# `cmake --install` into a fresh prefix, then proves that the loader finds and
# loads that installed copy (not the build tree's) through XDG_DATA_DIRS alone:
#   - the installed manifests are valid and their library_path resolves;
#   - VK_INSTANCE_LAYERS switches the installed explicit layer on;
#   - ENABLE_TRANSPARENT_SUBALLOC switches the installed implicit layer on;
#   - the library the loader inserted lives under the prefix.
set -euo pipefail

build=$1 work=$2 probe=$3 run_in_chain=$4 check_manifest=$5 catalog=$6
layer=VK_LAYER_TRANSPARENT_suballoc
prefix="$work/prefix"
rm -rf "$work" && mkdir -p "$work"

fail() { echo "install_test: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" > "$work/install.log" || { cat "$work/install.log" >&2; fail "cmake --install"; }

explicit="$prefix/share/vulkan/explicit_layer.d/VkLayer_TRANSPARENT_suballoc.json"
implicit="$prefix/share/vulkan/implicit_layer.d/VkLayer_TRANSPARENT_suballoc.json"
[ -f "$explicit" ] || fail "no explicit manifest at $explicit"
[ -f "$implicit" ] || fail "no implicit manifest at $implicit"
python3 "$check_manifest" --catalog "$catalog" --explicit "$explicit" --implicit "$implicit"

# Nothing but XDG_DATA_DIRS leads the loader to the prefix.
unset VK_LAYER_PATH VK_ADD_LAYER_PATH VK_INSTANCE_LAYERS ENABLE_TRANSPARENT_SUBALLOC
export XDG_DATA_DIRS="$prefix/share"

# run_case NAME EXPECT_CHAIN PROBE_EXPECT [VAR=value...]: runs the probe twice,
# once through run_in_chain.sh (the chain), once keeping the loader's log (the path).
run_case() {
  local name=$1 chain=$2 expect=$3
  shift 3
  local stats="$work/$name.stats" log="$work/$name.loader.log"
  env "$@" VK_SUBALLOC_STATS_FILE="$stats" \
    "$run_in_chain" --expect "$chain" -- "$probe" --expect "$expect" --stats-file "$stats" \
    || fail "$name: the probe or the chain check failed"
  env "$@" VK_SUBALLOC_STATS_FILE="$stats" VK_LOADER_DEBUG=layer \
    "$probe" --expect "$expect" --stats-file "$stats" > /dev/null 2> "$log" || fail "$name: second run failed"
  if [ -n "$chain" ]; then
    # The loader names the library it inserts; it must be the installed one.
    grep -F "$layer" "$log" | grep -q -F "$prefix/" || fail "$name: the loader did not load $layer from $prefix"
    if grep -E "Insert|insert" "$log" | grep -F "$layer" | grep -q -F "$build/layer/"; then
      fail "$name: the loader loaded the build tree's library"
    fi
  fi
  echo "install_test: $name: ok"
}

run_case explicit_by_instance_layers "$layer" suballocate VK_INSTANCE_LAYERS="$layer"
run_case implicit_by_enable_variable "$layer" suballocate ENABLE_TRANSPARENT_SUBALLOC=1
run_case implicit_dormant "" off
