# client_checks.sh: what run_vulkaninfo.sh and run_vkcube.sh check about a client
# nobody here wrote. Sourced by them; they define fail() and $chain first.

if [ -n "${SUBALLOC_CLIENT_PRELOAD:-}" ]; then
  # Leaks of an uninstrumented client are not the layer's; the test programs,
  # built with the sanitizer, check the layer for leaks.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
fi

chain_has_layer() {
  case "$chain" in
    plain|strict|validation_above|validation_below) return 0 ;;
  esac
  return 1
}

# The layer appends a line per vkDestroyDevice: start from none.
reset_stats() {
  local file="${VK_TRANSPARENT_SUBALLOC_STATS_FILE:-}"
  if [ -n "$file" ]; then rm -f "$file"; fi
}

# run_client <output file> <command...>: both streams into the file; stderr also
# on to run_in_chain, which reads the loader's layer callstack there. A sanitizer
# runtime, when the build needs one, is preloaded into the client alone.
run_client() {
  local out=$1
  shift
  LD_PRELOAD="${SUBALLOC_CLIENT_PRELOAD:-${LD_PRELOAD:-}}" "$@" >"$out" 2>"$out.err"
  local status=$?
  cat "$out.err" >&2
  cat "$out.err" >>"$out"
  rm -f "$out.err"
  return $status
}

# check_quiet <output file> <what>: no validation message, no warning of the
# layer, no strict-device violation.
check_quiet() {
  if grep -n -E 'Validation (Error|Warning)|VUID-|^suballoc: |TRANSPARENT-suballoc|strict_device: VIOLATION' "$1" >&2; then
    fail "$2 printed the messages above"
  fi
}

# With the layer, one stats line at least and no leaked allocation in any; without
# it, no stats file at all.
check_stats() {
  local file="${VK_TRANSPARENT_SUBALLOC_STATS_FILE:-}"
  [ -n "$file" ] || return 0
  if chain_has_layer; then
    [ -s "$file" ] || fail "the layer wrote no stats line to $file"
    if grep -v -E ' app_leaked=0( |$)' "$file" >&2; then
      fail "the stats lines above report leaked allocations"
    fi
  elif [ -e "$file" ]; then
    fail "a stats file appeared although the chain has no sub-allocation layer"
  fi
}
