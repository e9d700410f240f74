#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# privileged_test.sh --files CASE_DIR PROBE
#     The files the layer writes: created 0644 whatever the umask, and never
#     through a symbolic link. Runs as any user, in the chain its caller set up.
# privileged_test.sh --privileged CASE_DIR PROBE MANIFEST
#     A setuid-root copy of the probe, run by an unprivileged user who sets every
#     settings source the user owns (the environment, VK_LAYER_SETTINGS_PATH,
#     XDG_DATA_HOME, HOME, the working directory) to name files in a folder only
#     root can write, and passthrough mode. The layer must read none of them: no
#     such file appears, and the probe sees it sub-allocate, with the settings
#     the program itself passed in VkLayerSettingsCreateInfoEXT. The same
#     environment without setuid must be obeyed (the decoys work). Needs root
#     (a user, a setuid file, a manifest where a setuid program's loader looks);
#     as another user it skips (77) and says why.
set -euo pipefail

mode=$1 dir=$2 probe=$3
fail() { echo "privileged_test: FAIL: $*" >&2; exit 1; }
note() { echo "privileged_test: $*"; }

mode_of() { stat -c %a "$1"; }

# ---- --files ---------------------------------------------------------------------

if [ "$mode" = --files ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  unset VK_TRANSPARENT_SUBALLOC_LOG_LEVEL VK_SUBALLOC_LOG_LEVEL # the test chains set one; it would beat the probe's
  umask 000 # a plain fopen would now create 0666 files
  "$probe" --expect suballocate --stats-file "$dir/stats.txt" --api "stats_file=string:$dir/stats.txt" \
    --api log_level=string:info --api "log_file=string:$dir/log.txt"
  [ -s "$dir/log.txt" ] || fail "the layer wrote no log_file"
  for file in stats.txt log.txt; do
    [ "$(mode_of "$dir/$file")" = 644 ] || fail "$file was created with mode $(mode_of "$dir/$file"), not 644"
  done
  note "stats_file and log_file created 0644 under umask 000"

  # A link where the log file should be: the layer must not write through it.
  echo untouched > "$dir/victim"
  ln -s "$dir/victim" "$dir/link.txt"
  "$probe" --expect suballocate --stats-file "$dir/stats2.txt" --api "stats_file=string:$dir/stats2.txt" \
    --api log_level=string:info --api "log_file=string:$dir/link.txt" 2> "$dir/stderr.txt" ||
    { cat "$dir/stderr.txt" >&2; fail "the probe failed with a log_file that is a link"; }
  cat "$dir/stderr.txt" >&2
  [ "$(cat "$dir/victim")" = untouched ] || fail "the layer wrote through the symbolic link log_file"
  grep -q "symbolic link" "$dir/stderr.txt" || fail "the layer did not say why it refused the log_file"
  note "a log_file that is a symbolic link is refused, and said so"
  exit 0
fi

# ---- --privileged ------------------------------------------------------------------

[ "$mode" = --privileged ] || fail "unknown mode $mode"
manifest=$4
user=suballoc-unprivileged
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to create the user '$user', a setuid-root copy of the probe and a system layer" \
       "manifest (a setuid program's loader ignores VK_LAYER_PATH); CI runs as root"
  exit 77
fi
if ! id -u "$user" > /dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || fail "useradd $user failed"
fi

# Everything the user must reach lives in a fresh folder in /tmp: the build tree
# may be in root's home, which the user cannot enter.
work=$(mktemp -d /tmp/suballoc-privileged.XXXXXX)
# A layer name of its own: nobody else's program enables it by chance while the
# manifest sits in the system folder.
layer="VK_LAYER_TRANSPARENT_suballoc_privileged_test_$$"
system_dir=/usr/local/share/vulkan/explicit_layer.d
system_manifest="$system_dir/$layer.json"
cleanup() { rm -rf "$work"; rm -f "$system_manifest"; }
trap cleanup EXIT
chmod 0755 "$work"
mkdir -p "$system_dir"
sed "s/\"name\": \"VK_LAYER_TRANSPARENT_suballoc\"/\"name\": \"$layer\"/" "$manifest" > "$system_manifest"
grep -q "\"$layer\"" "$system_manifest" || fail "could not rename the layer in $manifest"

if findmnt -n -o OPTIONS --target "$work" 2> /dev/null | grep -qw nosuid; then
  fail "$work is on a nosuid mount: a setuid bit has no effect there"
fi
cp "$probe" "$work/probe"
chown root:root "$work/probe"
chmod 4755 "$work/probe"
root_only="$work/root-only" # where the user's settings point: only root can create files there
out="$work/out"             # where the program's own settings point
home="$work/user"           # the user's files
mkdir -p "$root_only" "$out"
chmod 0755 "$root_only" "$out"
mkdir -p "$home/xdg/vulkan/settings.d" "$home/home/.local/share/vulkan/settings.d" "$home/cwd" "$home/path"
settings_file() { # source name
  printf 'transparent_suballoc.mode = passthrough\ntransparent_suballoc.stats_file = %s\ntransparent_suballoc.log_file = %s\ntransparent_suballoc.log_level = debug\n' \
    "$root_only/$1-stats" "$root_only/$1-log"
}
settings_file xdg > "$home/xdg/vulkan/settings.d/vk_layer_settings.txt"
settings_file home > "$home/home/.local/share/vulkan/settings.d/vk_layer_settings.txt"
settings_file cwd > "$home/cwd/vk_layer_settings.txt"
settings_file path > "$home/path/vk_layer_settings.txt"
chown -R "$user" "$home"

env_decoys=(VK_TRANSPARENT_SUBALLOC_MODE=passthrough "VK_SUBALLOC_STATS_FILE=$root_only/env-stats"
            "VK_SUBALLOC_LOG_FILE=$root_only/env-log" VK_SUBALLOC_LOG_LEVEL=debug)
base_env=(PATH=/usr/bin:/bin "VK_INSTANCE_LAYERS=$layer")
# Under the sanitizer stages `env -i` would drop their options, and a setuid
# program ignores the LD_PRELOAD that keeps the driver loaded, so LeakSanitizer
# would report the driver's globals as leaks once it is unloaded. Leaks are not
# what this test is about (every other test checks them): carry the options on
# and turn leak checking off here (harmless for a build without ASan).
base_env+=("ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
[ -z "${UBSAN_OPTIONS:-}" ] || base_env+=("UBSAN_OPTIONS=$UBSAN_OPTIONS")

# The decoys work: without setuid, root's own run obeys the environment.
(cd "$work" && env -i "${base_env[@]}" "${env_decoys[@]}" "$probe" --expect passthrough \
  --stats-file "$root_only/env-stats") || fail "without setuid the environment was not obeyed: the decoys prove nothing"
[ -s "$root_only/env-log" ] || fail "without setuid the environment's log_file was not written"
rm -f "$root_only"/*
note "control: a process that is not privileged obeys VK_*SUBALLOC_* (passthrough, stats and log in $root_only)"

umask 000
run_case() { # name, working directory, extra environment...
  local name=$1 cwd=$2
  shift 2
  local stats="$out/stats-$name.txt" log="$out/log-$name.txt"
  (cd "$cwd" && runuser -u "$user" -- env -i "${base_env[@]}" "$@" "$work/probe" --expect suballocate \
    --stats-file "$stats" --api "stats_file=string:$stats" --api log_level=string:debug \
    --api "log_file=string:$log") || fail "$name: the setuid probe failed (see above)"
  local left
  left=$(ls -A "$root_only")
  [ -z "$left" ] || fail "$name: files named by the user appeared: $left"
  [ "$(grep -c "elevated privileges" "$log")" = 1 ] || fail "$name: the layer did not say once that it ignores the user's settings"
  [ "$(mode_of "$log")" = 644 ] || fail "$name: log_file created with mode $(mode_of "$log")"
  note "$name: sub-allocated with the program's settings; nothing the user named was read or written"
}
run_case environment "$work" "${env_decoys[@]}"
run_case vk_layer_settings_path "$work" "VK_LAYER_SETTINGS_PATH=$home/path"
run_case xdg_data_home "$work" "XDG_DATA_HOME=$home/xdg"
run_case home "$work" "HOME=$home/home"
run_case working_directory "$home/cwd"
run_case all_at_once "$home/cwd" "${env_decoys[@]}" "VK_LAYER_SETTINGS_PATH=$home/path" "XDG_DATA_HOME=$home/xdg" \
  "HOME=$home/home"
