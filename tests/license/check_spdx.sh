#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_spdx.sh SOURCE_DIR: the licence is Apache-2.0 (LICENSE) and every
# source file says so in its first lines with an SPDX-License-Identifier.
#
# Sources: C and headers, shell, Python, Lua, GLSL, CMake, sanitizer
# suppressions, man page and script templates (*.in), .clang-format. Files no
# comment can go in (JSON) and data or prose (Markdown, PNG, word lists,
# fuzz seeds) are exempt by name below; a file of any other kind fails, so a
# new kind of file gets a decision.
set -u
source_dir=$1
spdx="SPDX-License-Identifier: Apache-2.0"
cd "$source_dir" || exit 2

failures=0
fail() { echo "check_spdx: $*" >&2; failures=$((failures + 1)); }

grep -q "Apache License" LICENSE 2>/dev/null && grep -q "Version 2.0, January 2004" LICENSE ||
  fail "LICENSE is missing or is not the Apache License 2.0"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files)
else # a source tarball: every file but build output
  mapfile -t files < <(find . -type f ! -path './build*' ! -path './.git/*' | sed 's|^\./||' | sort)
fi

checked=0
for file in "${files[@]}"; do
  [ -f "$file" ] || continue
  case "$file" in
    *.json | *.json.in | *.md | *.png | LICENSE | .gitignore | .ci/* | tests/fuzz/seeds/* | \
      tests/piglit/gl_subset.txt | vkconfig/vk_layer_settings.txt)
      continue ;;
    *.c | *.h | *.sh | *.py | *.lua | *.comp | *.cmake | */CMakeLists.txt | CMakeLists.txt | *.supp | *.in | \
      .clang-format)
      ;;
    *)
      fail "$file: a kind of file this check does not know (add it to check_spdx.sh: source or exempt)"
      continue ;;
  esac
  checked=$((checked + 1))
  head -n 3 "$file" | grep -qF "$spdx" || fail "$file: no '$spdx' in its first lines"
done

[ "$failures" -eq 0 ] || { echo "check_spdx: $failures problem(s)" >&2; exit 1; }
echo "check_spdx: LICENSE is Apache-2.0; all $checked source files carry '$spdx'"
