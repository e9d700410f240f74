#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# package-test.sh [BUILD_DIR]: the layer as a distribution builds and ships it.
#
#   1. A layer-only configure (-DBUILD_TESTING=OFF, prefix /usr) builds the
#      layer, its manifest, suballoc-run and its probe, suballoc-picture and the
#      man pages, and nothing else (no test, no strict layer, no demo).
#   2. Its install holds exactly those files, and the implicit flavour
#      (-DSUBALLOC_LAYER_MANIFEST=implicit) installs one implicit manifest that
#      the loader lists once and ENABLE_TRANSPARENT_SUBALLOC=1 switches on.
#   3. `cpack -G DEB` makes a package with the right dependencies, and, as root
#      (CI is root): `apt-get install ./file.deb`; vulkaninfo lists the layer
#      exactly once; suballoc-run --check finds it where the package put it;
#      `suballoc-run -- vkcube --c 10` runs under Xvfb through the installed
#      files; the man pages render; `apt-get purge` leaves nothing behind.
# Without root, step 3 stops after building and inspecting the package, and says so.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-package}
layer=VK_LAYER_TRANSPARENT_suballoc
package=transparent-suballoc
manifest_name=VkLayer_TRANSPARENT_suballoc.json
work=$(mktemp -d "${TMPDIR:-/tmp}/package-test.XXXXXX")
xvfb_pid=""
installed=0

cleanup() {
  [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null || true
  # Never leave the package on the machine, whatever failed.
  if [ "$installed" -eq 1 ]; then apt-get purge -y -q "$package" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
step() { echo "package-test: $*"; }

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$work/xdg-runtime}"
mkdir -p "$XDG_RUNTIME_DIR"
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}"
unset VK_LAYER_PATH VK_ADD_LAYER_PATH VK_INSTANCE_LAYERS VK_LOADER_LAYERS_ENABLE VK_LOADER_LAYERS_DISABLE \
      ENABLE_TRANSPARENT_SUBALLOC DISABLE_TRANSPARENT_SUBALLOC

# ---- 1. a layer-only build ----------------------------------------------------
configure() { cmake -S "$root" -B "$build" -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX=/usr \
                    -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$work/configure.log" ||
                { cat "$work/configure.log" >&2; fail "configure $*"; }; }
configure -DSUBALLOC_LAYER_MANIFEST=explicit
cmake --build "$build" -j "$(nproc)" >"$work/build.log" || { tail -n 40 "$work/build.log" >&2; fail "build"; }
for target in VkLayer_TEST_strict_device suballoc-demo allocator_bench test_settings; do
  grep -q "^$target:" <(cmake --build "$build" --target help | sed 's/^\.\.\. //; s/ .*//; s/$/:/') &&
    fail "a layer-only configure still has the target $target"
done
[ ! -e "$build/tests" ] || fail "a layer-only configure still configured tests/"
step "layer-only build: no test, no strict layer, no demo, no benchmark"

# ---- 2. what a layer-only install holds ---------------------------------------
# install FLAVOUR PREFIX: cmake --install with the manifest flavour FLAVOUR.
install_flavour() {
  configure -DSUBALLOC_LAYER_MANIFEST="$1"
  cmake --build "$build" -j "$(nproc)" >>"$work/build.log" || fail "build ($1)"
  cmake --install "$build" --prefix "$2" >"$work/install-$1.log" || { cat "$work/install-$1.log" >&2; fail "install $1"; }
}
multiarch=$(cd "$build" && grep '^CMAKE_INSTALL_LIBDIR:' CMakeCache.txt | cut -d= -f2)
expected_files() { # FLAVOUR
  printf '%s\n' bin/suballoc-picture bin/suballoc-run "$multiarch/libVkLayer_TRANSPARENT_suballoc.so" \
    libexec/transparent_suballoc/suballoc-probe share/doc/$package/LICENSE share/doc/$package/README.md \
    share/man/man1/suballoc-picture.1.gz share/man/man1/suballoc-run.1.gz \
    share/man/man7/VK_LAYER_TRANSPARENT_suballoc.7.gz share/transparent_suballoc/vkconfig/README.md \
    share/transparent_suballoc/vkconfig/TRANSPARENT_suballoc-3.json \
    share/transparent_suballoc/vkconfig/TRANSPARENT_suballoc.json \
    share/transparent_suballoc/vkconfig/vk_layer_settings.txt "share/vulkan/$1_layer.d/$manifest_name" | sort
}
for flavour in implicit explicit; do # explicit last: the package is made from it
  prefix="$work/prefix-$flavour"
  install_flavour "$flavour" "$prefix"
  diff <(expected_files "$flavour") <(cd "$prefix" && find . -type f | sed 's|^\./||' | sort) >"$work/files.diff" ||
    { cat "$work/files.diff" >&2; fail "the $flavour install holds other files than expected (< expected, > installed)"; }
  listed=$(XDG_DATA_DIRS="$prefix/share" "$prefix/libexec/transparent_suballoc/suballoc-probe" | grep -c "^listed $layer\$" || true)
  [ "$listed" -eq 1 ] || fail "the $flavour install: the loader lists $layer $listed times"
  XDG_DATA_DIRS="$prefix/share" "$prefix/bin/suballoc-run" --check >"$work/check.out" 2>&1 ||
    { cat "$work/check.out" >&2; fail "the $flavour install: suballoc-run --check"; }
  grep -qF "manifest: $prefix/share/vulkan/${flavour}_layer.d/$manifest_name ($flavour layer)" "$work/check.out" ||
    { cat "$work/check.out" >&2; fail "the $flavour install: --check names another manifest"; }
  step "$flavour install: the expected files, listed once, found by suballoc-run --check"
done
# The implicit layer's own switch, without the launcher.
prefix="$work/prefix-implicit"
for switch in "ENABLE_TRANSPARENT_SUBALLOC=1" "VK_LOADER_LAYERS_ENABLE=$layer"; do
  env "$switch" XDG_DATA_DIRS="$prefix/share" VK_LOADER_DEBUG=layer \
    "$prefix/libexec/transparent_suballoc/suballoc-probe" >/dev/null 2>"$work/implicit.log" || fail "probe with $switch"
  grep -A 20 "vkCreateDevice layer callstack" "$work/implicit.log" | grep -q "^LAYER: *$layer *\$" ||
    fail "the implicit install: $switch did not put $layer in the device chain"
done
env XDG_DATA_DIRS="$prefix/share" VK_LOADER_DEBUG=layer \
  "$prefix/libexec/transparent_suballoc/suballoc-probe" >/dev/null 2>"$work/implicit.log" || fail "probe"
grep -A 20 "vkCreateDevice layer callstack" "$work/implicit.log" | grep -q "^LAYER: *$layer *\$" &&
  fail "the implicit install: the layer is on without ENABLE_TRANSPARENT_SUBALLOC"
step "implicit install: on with ENABLE_TRANSPARENT_SUBALLOC=1 and VK_LOADER_LAYERS_ENABLE, off without"

# ---- 3. the Debian package ------------------------------------------------------
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$build"/${package}_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for dependency in libc6 libvulkan1 python3; do
  grep -qE "(^|, )$dependency( |,|$)" <<<"$depends" || fail "the package does not depend on $dependency: $depends"
done
dpkg-deb -c "$deb" | awk '{ print $6 }' | grep -vE '^\./usr/' && fail "the package installs outside /usr"
dpkg-deb -c "$deb" | grep -qF "$manifest_name" || fail "the package has no manifest"
step "$(basename "$deb"): Depends: $depends"

if [ "$(id -u)" -ne 0 ]; then
  step "SKIP: installing the package needs root (apt-get); CI runs this as root"
  exit 0
fi

if dpkg-query -W "$package" >/dev/null 2>&1; then apt-get purge -y -q "$package" >/dev/null; fi
# What the package brings that the machine does not have yet: all of it must go again.
new_paths=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\.||; s|/$||' | grep . |
            while read -r path; do [ -e "$path" ] || printf '%s\n' "$path"; done)
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get install $deb"; }

command -v vulkaninfo >/dev/null || fail "vulkaninfo is missing (vulkan-tools)"
count=$(vulkaninfo 2>/dev/null | grep -c "^$layer (" || true)
[ "$count" -eq 1 ] || fail "vulkaninfo lists $layer $count times, expected once"
suballoc-run --check >"$work/check.out" 2>&1 || { cat "$work/check.out" >&2; fail "suballoc-run --check"; }
grep -qF "manifest: /usr/share/vulkan/explicit_layer.d/$manifest_name (explicit layer)" "$work/check.out" ||
  { cat "$work/check.out" >&2; fail "--check names another manifest than the package's"; }
step "installed: vulkaninfo lists the layer once; suballoc-run --check finds the package's manifest"

# vkcube through the installed launcher, on a private X server.
mkfifo "$work/display"
Xvfb -displayfd 3 -screen 0 640x480x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
read -r -t 20 display <"$work/display" || { cat "$work/xvfb.log" >&2; fail "Xvfb did not start"; }
DISPLAY=":$display" timeout 120 suballoc-run -- vkcube --c 10 >"$work/vkcube.log" 2>&1 ||
  { cat "$work/vkcube.log" >&2; fail "suballoc-run -- vkcube --c 10"; }
grep -qE "^suballoc-run: +[0-9]+ app allocations? -> [0-9]+ driver allocations?" "$work/vkcube.log" ||
  { cat "$work/vkcube.log" >&2; fail "suballoc-run printed no summary for vkcube: the layer was not on"; }
step "installed: $(grep -E '^suballoc-run: +[0-9]+ app allocation' "$work/vkcube.log" | sed 's/^suballoc-run: *//')"

# The man pages, unless this machine's dpkg is set to drop them (minimal images).
if ! grep -qs "path-exclude=/usr/share/man" /etc/dpkg/dpkg.cfg.d/*; then
  for page in suballoc-run suballoc-picture VK_LAYER_TRANSPARENT_suballoc; do
    MANWIDTH=80 man "$page" 2>/dev/null | grep -q . || fail "man $page shows nothing"
  done
  step "installed: man suballoc-run, suballoc-picture and VK_LAYER_TRANSPARENT_suballoc"
fi

DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$package" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get purge"; }
installed=0
dpkg-query -W "$package" >/dev/null 2>&1 && fail "dpkg still knows $package"
left=""
for path in $new_paths; do
  [ -e "$path" ] && left="$left $path"
done
[ -z "$left" ] || fail "left behind after purge:$left"
count=$(vulkaninfo 2>/dev/null | grep -c "^$layer (" || true)
[ "$count" -eq 0 ] || fail "vulkaninfo still lists $layer after purge"
step "purged: nothing of the package is left, vulkaninfo lists no $layer"
step "all passed"
