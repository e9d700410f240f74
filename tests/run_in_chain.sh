#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_in_chain.sh --expect "LAYER_A,LAYER_B" -- command args...
#
# Runs a Vulkan test program with VK_LOADER_DEBUG=layer and fails unless every
# device it created had exactly the expected explicit layers between the loader
# and the driver, in that order (app side first). An empty --expect means "no
# explicit layer at all". The program's own exit status is passed on.
#
# Why: this loader orders layers by the folders of VK_LAYER_PATH, not by the
# names in VK_INSTANCE_LAYERS, so a test that meant "validation below the
# layer" can silently run with it above. The test must prove its chain.
set -u

expect=""
while [ $# -gt 0 ]; do
  case "$1" in
    --expect) expect="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "run_in_chain: unknown option $1" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "run_in_chain: no command" >&2; exit 2; }

log=$(mktemp "${TMPDIR:-/tmp}/run_in_chain.XXXXXX")
trap 'rm -f "$log"' EXIT

# The loader's messages go to stderr together with the program's; keep the
# program's lines visible and the LAYER lines in the log only.
VK_LOADER_DEBUG=layer "$@" 2> >(tee "$log" | grep -v -E '(^|[|] )LAYER:|\[Loader Message\]' >&2)
status=$?
wait

# Layers of each "vkCreateDevice layer callstack", one comma list per device.
chains=$(awk '
  /vkCreateDevice layer callstack/ { inside = 1; chain = ""; next }
  inside && /<Device>|<Drivers>|<Physical Device>/ { print chain; inside = 0; next }
  inside && /^LAYER: +VK_LAYER_[A-Za-z0-9_]+ *$/ {
    name = $2
    if (name != "VK_LAYER_MESA_device_select") chain = (chain == "" ? name : chain "," name)
  }
' "$log")

if [ -z "$chains" ]; then
  if ! grep -q "vkCreateDevice layer callstack" "$log"; then
    # No device was created through layers: only acceptable when none was expected
    # or the program failed anyway (its own status says why).
    if [ -n "$expect" ] && [ $status -eq 0 ]; then
      echo "run_in_chain: no vkCreateDevice layer callstack seen; expected '$expect'" >&2
      exit 1
    fi
  fi
fi

while IFS= read -r chain; do
  # No callstack at all (checked above) leaves one empty line: nothing to compare.
  [ -z "$chain" ] && [ -z "$expect" ] && continue
  [ -z "$chain" ] && [ -z "$chains" ] && continue
  if [ "$chain" != "$expect" ]; then
    echo "run_in_chain: device layer chain was '$chain', expected '$expect'" >&2
    exit 1
  fi
done <<< "$chains"

exit $status
