#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages the build, the demo and the tests need.
# Safe to run again: apt-get skips what is already there.
#   install-deps.sh        everything (scripts/test.sh)
#   install-deps.sh demo   what scripts/demo.sh needs: a compiler, the Vulkan
#                          loader and headers, lavapipe, glslang, check (the
#                          default configure has the tests) and matplotlib
set -euo pipefail

demo_packages=(
  build-essential cmake pkg-config libvulkan-dev check glslang-tools
  mesa-vulkan-drivers python3 python3-matplotlib
)

packages=(
  build-essential cmake pkg-config clang   # compilers; clang for libFuzzer
  clang-format-14                          # scripts/check-format.sh: the one C style
  libvulkan-dev spirv-headers check       # build deps (loader, headers, unit tests)
  glslang-tools spirv-tools                # compute shaders -> SPIR-V at build time
  mesa-vulkan-drivers vulkan-validationlayers vulkan-tools xvfb  # lavapipe, validation, vulkaninfo/vkcube
  python3                                  # manifest checks in the tests, man pages from templates
  man-db                                   # man -l checks the man pages (tests/man)
  dpkg-dev                                 # cpack -G DEB finds the package dependencies with dpkg-shlibdeps
  # real clients in the test suite (tests/clients): mpv and ffmpeg (both on
  # libplacebo), OpenGL on zink (glxinfo, glxgears; zink is in libgl1-mesa-dri)
  mpv ffmpeg libplacebo208 mesa-utils libgl1-mesa-dri
  piglit                                   # piglit's GL tests on zink (tests/piglit)
  python3-matplotlib                       # suballoc-picture draws the layer's JSON dump
  python3-jsonschema                       # the dump tests check VMA's format
)

case "${1:-all}" in
  all) ;;
  demo) packages=("${demo_packages[@]}") ;;
  *) echo "usage: $0 [all|demo]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
