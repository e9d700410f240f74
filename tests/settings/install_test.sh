#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# install_test.sh BUILD_DIR WORK_DIR PROBE RUN_IN_CHAIN CHECK_MANIFEST CATALOG
#
# `cmake --install` into a fresh prefix, then proves that the loader finds and
# loads that installed copy (not the build tree's) through XDG_DATA_DIRS alone:
#   - the one installed manifest (explicit, the default) is valid, its
#     library_path resolves, and no second manifest of the layer is installed;
#   - the loader lists the layer once;
#   - VK_INSTANCE_LAYERS switches the installed layer on;
#   - the library the loader inserted lives under the prefix;
#   - the man pages are installed, name the prefix and render.
# The implicit flavour (-DSUBALLOC_LAYER_MANIFEST=implicit) is installed and
# checked the same way by scripts/package-test.sh.
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
[ ! -e "$implicit" ] || fail "an implicit manifest beside the explicit one: the loader would list the layer twice"
python3 "$check_manifest" --catalog "$catalog" --explicit "$explicit"

# The man pages, gzipped where man finds them, naming this prefix.
for page in man1/suballoc-run.1 man1/suballoc-picture.1 man7/VK_LAYER_TRANSPARENT_suballoc.7; do
  [ -f "$prefix/share/man/$page.gz" ] || fail "no man page $prefix/share/man/$page.gz"
done
MANWIDTH=2000 man -l "$prefix/share/man/man7/VK_LAYER_TRANSPARENT_suballoc.7.gz" 2>/dev/null |
  grep -qF "$prefix/share/vulkan/explicit_layer.d/VkLayer_TRANSPARENT_suballoc.json" ||
  fail "the installed VK_LAYER_TRANSPARENT_suballoc(7) does not name the installed manifest"
[ -f "$prefix/share/transparent_suballoc/vkconfig/TRANSPARENT_suballoc-3.json" ] || fail "no vkconfig 3.x configuration"

# Nothing but XDG_DATA_DIRS leads the loader to the prefix.
unset VK_LAYER_PATH VK_ADD_LAYER_PATH VK_INSTANCE_LAYERS ENABLE_TRANSPARENT_SUBALLOC
export XDG_DATA_DIRS="$prefix/share"

listed=$("$prefix/libexec/transparent_suballoc/suballoc-probe" | grep -c "^listed $layer\$" || true)
[ "$listed" -eq 1 ] || fail "the loader lists $layer $listed times, expected once"
echo "install_test: listed once: ok"

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
run_case explicit_dormant "" off
