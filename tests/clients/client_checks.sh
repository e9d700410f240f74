# SPDX-License-Identifier: Apache-2.0
# client_checks.sh: what the client tests check about a program nobody here
# wrote. Sourced by the run_*.sh scripts; they define fail() and $chain first.
# shellcheck shell=bash disable=SC2154 # $chain comes from the sourcing script
#
# Each script runs its client once in the test's chain (set up by
# suballoc_add_vulkan_test and proven by run_in_chain.sh). Where the client's
# result is deterministic, it also runs the client once more in the same chain
# without this project's layer (run_reference), and the two results must be
# equal; that run's validation messages are the client's own, the only ones the
# chain's run may show.

if [ -n "${SUBALLOC_CLIENT_PRELOAD:-}" ]; then
  # Leaks of an uninstrumented client are not the layer's; the test programs,
  # built with the sanitizer, check the layer for leaks.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
fi

client_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run_in_chain="$client_dir/../run_in_chain.sh"
our_layer=VK_LAYER_TRANSPARENT_suballoc

chain_has_layer() {
  case "$chain" in
    plain|strict|validation_above|validation_below) return 0 ;;
  esac
  return 1
}

# require_program <program> <Debian package>: a client that is not installed
# fails the test; it never skips.
require_program() {
  command -v "$1" >/dev/null ||
    fail "$1 is not installed (Debian package $2; scripts/install-deps.sh installs it)"
}

# The layer appends a line per vkDestroyDevice: start from none.
reset_stats() {
  local file="${VK_TRANSPARENT_SUBALLOC_STATS_FILE:-}"
  if [ -n "$file" ]; then rm -f "$file"; fi
}

# start_xvfb <work dir>: a private X server on a display Xvfb picks itself (no
# races between tests running at once); sets $display and $xvfb_pid. The
# caller's EXIT trap calls stop_xvfb. Xvfb itself runs without the test's
# Vulkan layers, OpenGL driver choice and preload: its own GLX would otherwise
# load zink, hence Vulkan and the layer (and a sanitized layer aborts it).
xvfb_pid=""
display=""
start_xvfb() {
  require_program Xvfb xvfb
  mkfifo "$1/display" || fail "cannot make a fifo in $1"
  env -u VK_INSTANCE_LAYERS -u VK_LOADER_DEBUG -u LIBGL_ALWAYS_SOFTWARE -u GALLIUM_DRIVER -u LD_PRELOAD \
    Xvfb -displayfd 3 -screen 0 "${XVFB_SCREEN:-640x480x24}" -nolisten tcp 3>"$1/display" 2>"$1/xvfb.log" &
  xvfb_pid=$!
  read -r -t 20 display <"$1/display" || true
  [ -n "$display" ] || { cat "$1/xvfb.log" >&2; fail "Xvfb did not start"; }
  export DISPLAY=":$display"
}
stop_xvfb() {
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
  fi
  xvfb_pid=""
}

# A client that crashes now and then by itself, with no layer at all, names the
# crash in CLIENT_KNOWN_CRASH. Then a run that dies by a signal is run once more
# (and says so): a crash that repeats still fails, so a layer that makes the
# client crash is still caught, while the client's own rare crash no longer
# fails CI. Timeouts (124) and exit statuses are never retried.
died_by_signal() { [ "$1" -gt 128 ] && [ "$1" -ne 124 ]; }
# retrying_known_crash <what runs> <command...>: the command, once more after a known crash.
retrying_known_crash() {
  local what=$1 status=0
  shift
  "$@" || status=$?
  if [ -n "${CLIENT_KNOWN_CRASH:-}" ] && died_by_signal "$status"; then
    echo "client_checks: $what died with status $status; running it once more, since $CLIENT_KNOWN_CRASH" >&2
    status=0
    "$@" || status=$?
  fi
  return $status
}

# run_client <output file> <command...>: both streams into the file; stderr also
# on to run_in_chain, which reads the loader's layer callstack there. A sanitizer
# runtime, when the build needs one, is preloaded into the client alone.
run_client_once() {
  local out=$1
  shift
  LD_PRELOAD="${SUBALLOC_CLIENT_PRELOAD:-${LD_PRELOAD:-}}" "$@" >"$out" 2>"$out.err"
  local status=$?
  cat "$out.err" >&2
  cat "$out.err" >>"$out"
  rm -f "$out.err"
  return $status
}
run_client() { retrying_known_crash "the run in chain $chain" run_client_once "$@"; }

# The test's chain without this project's layer, app side first, comma-separated:
# "" for none and plain, the strict device alone for strict, validation alone for
# the validation chains.
reference_layers() {
  local layers="" layer
  local -a list
  IFS=: read -r -a list <<<"${VK_INSTANCE_LAYERS:-}"
  for layer in "${list[@]}"; do
    [ "$layer" = "$our_layer" ] || layers="${layers:+$layers,}$layer"
  done
  printf '%s' "$layers"
}

# run_reference <output file> <command...>: the same command in the same chain
# without this project's layer, proving that chain with its own run_in_chain.
# Both streams go to the file only, so the loader log of this run never reaches
# the test's own run_in_chain. Returns the command's status.
run_reference_once() {
  local out=$1
  shift
  local layers
  layers=$(reference_layers)
  VK_INSTANCE_LAYERS="${layers//,/:}" VK_TRANSPARENT_SUBALLOC_STATS_FILE="" \
    "$run_in_chain" --expect "$layers" -- \
    env LD_PRELOAD="${SUBALLOC_CLIENT_PRELOAD:-${LD_PRELOAD:-}}" "$@" >"$out" 2>&1
}
run_reference() { retrying_known_crash "the reference run ($(reference_name))" run_reference_once "$@"; }

# The reference chain in words, for messages.
reference_name() {
  local layers
  layers=$(reference_layers)
  printf '%s' "${layers:-no layer}"
}

# validation_ids <output file>: the message IDs of the validation layer's
# messages, one a line, sorted, unique; a message (or any line naming a VUID)
# whose ID cannot be read counts as "unreadable-validation-message".
validation_ids() {
  {
    sed -n 's/.*Validation \(Error\|Warning\|Information\|Performance Warning\): \[ \([^] ]*\) \].*/\2/p' "$1"
    grep -E 'VUID-|Validation (Error|Warning|Information|Performance Warning)' "$1" |
      grep -v -q -E 'Validation [A-Za-z ]+: \[ [^] ]+ \]' && echo unreadable-validation-message
  } | sort -u
}

# The layer's own leak warnings, for clients that destroy their device with
# allocations still live (CLIENT_LEAKS_AT_DESTROY=1).
leak_warning='suballoc: warning: vkDestroyDevice: .*never freed'

# check_messages <output file> <what> [<reference output file>]:
#  - no message of the layer (its leak warnings alone are allowed where the
#    client leaks at destroy) and no strict-device violation, ever;
#  - no validation message whose ID the reference run (the client without the
#    layer) did not show too, or that the script names in CLIENT_OWN_VALIDATION_IDS
#    (the client's own timing-dependent messages, each explained there).
check_messages() {
  local out=$1 what=$2 reference=${3:-}
  local ours
  ours=$(grep -n -E '^suballoc: |TRANSPARENT-suballoc|strict_device: VIOLATION' "$out")
  if [ "${CLIENT_LEAKS_AT_DESTROY:-0}" = 1 ]; then
    ours=$(grep -v -E "^[0-9]+:$leak_warning" <<<"$ours")
  fi
  if [ -n "$ours" ]; then
    echo "$ours" >&2
    fail "$what printed the messages above (expected no message of the layer and no strict-device violation)"
  fi

  local seen tolerated new id
  seen=$(validation_ids "$out")
  [ -n "$seen" ] || return 0
  tolerated=$({
    if [ -n "$reference" ]; then validation_ids "$reference"; fi
    for id in ${CLIENT_OWN_VALIDATION_IDS:-}; do echo "$id"; done
  } | sort -u)
  new=$(comm -23 <(echo "$seen") <(echo "$tolerated"))
  [ -z "$new" ] && return 0
  local listed
  listed=$(tr '\n' ' ' <<<"$new")
  listed=${listed% }
  while IFS= read -r id; do
    grep -m 1 -n -F -- "$id" "$out" >&2 || grep -m 1 -n -E 'VUID-|Validation ' "$out" >&2
  done <<<"$new"
  if [ -n "$reference" ]; then
    fail "$what: validation reported $listed with the layer, not seen without it ($(reference_name)): first of each above"
  fi
  fail "$what: validation reported $listed (expected none): first of each above"
}

# check_quiet <output file> <what>: no validation message at all, no message of
# the layer, no strict-device violation (clients run without a reference).
check_quiet() {
  check_messages "$1" "$2" ""
}

# With the layer, one stats line at least and no leaked allocation in any
# (unless the client leaks at destroy, CLIENT_LEAKS_AT_DESTROY=1); without it,
# no stats file at all.
check_stats() {
  local file="${VK_TRANSPARENT_SUBALLOC_STATS_FILE:-}"
  [ -n "$file" ] || return 0
  if chain_has_layer; then
    [ -s "$file" ] || fail "the layer wrote no stats line to $file"
    if [ "${CLIENT_LEAKS_AT_DESTROY:-0}" != 1 ] && grep -v -E ' app_leaked=0( |$)' "$file" >&2; then
      fail "the stats lines above report leaked allocations"
    fi
  elif [ -e "$file" ]; then
    fail "a stats file appeared although the chain has no sub-allocation layer"
  fi
}

# stats_total <field>: the sum of one field over the stats lines.
stats_total() {
  sed -n "s/.* $1=\([0-9]*\).*/\1/p" "${VK_TRANSPARENT_SUBALLOC_STATS_FILE:-/dev/null}" |
    awk '{ total += $1 } END { print total + 0 }'
}

# chain_has_strict_device: whether the chain ends in the strict device (a
# discrete GPU with a name of its own, not lavapipe's CPU device).
chain_has_strict_device() {
  case ":${VK_INSTANCE_LAYERS:-}:" in *:VK_LAYER_TEST_strict_device:*) return 0 ;; esac
  return 1
}

# device_name: the name of the Vulkan device the tests run on (the ICD is pinned
# by the test's environment), asked of vulkaninfo with no layer but the strict
# device where the chain has it. Its loader log goes nowhere near run_in_chain.
device_name() {
  require_program vulkaninfo vulkan-tools
  local name layers=""
  chain_has_strict_device && layers=VK_LAYER_TEST_strict_device
  name=$(env -u VK_LOADER_DEBUG VK_INSTANCE_LAYERS="$layers" vulkaninfo --summary 2>/dev/null |
    sed -n 's/^[[:space:]]*deviceName[[:space:]]*=[[:space:]]*//p' | head -n 1)
  [ -n "$name" ] || fail "vulkaninfo --summary names no device"
  printf '%s' "$name"
}
