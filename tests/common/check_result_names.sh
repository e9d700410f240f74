#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_result_names.sh PRINT_RESULT_NAMES VULKAN_CORE_H: every VkResult value
# vulkan_core.h defines (aliases aside) must get its own name from
# vk_result_name, and an unknown value must get "(unknown VkResult)".
set -euo pipefail
program=$1 header=$2
expected=$(awk '/^typedef enum VkResult \{/,/\} VkResult;/' "$header" |
           sed -nE 's/^ +(VK_[A-Z0-9_]+) = (-?[0-9]+),?$/\2 \1/p' | grep -v MAX_ENUM)
[ -n "$expected" ] || { echo "check_result_names: no VkResult values in $header" >&2; exit 1; }
# shellcheck disable=SC2046
actual=$("$program" $(cut -d' ' -f1 <<<"$expected") 123456)
if ! diff <(printf '%s\n123456 (unknown VkResult)\n' "$expected") <(printf '%s\n' "$actual"); then
  echo "check_result_names: vk_result_name differs from $header (< header, > vk_result_name)" >&2
  exit 1
fi
echo "check_result_names: $(wc -l <<<"$expected") VkResult values named as $header names them"
