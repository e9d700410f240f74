#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# man_test.sh CATALOG SUBALLOC_RUN SUBALLOC_PICTURE PAGE...
#
# The man pages as man-db shows them (man -l): no groff warning but the
# typographic "cannot adjust/break line" ones, a NAME section whatis can read
# (lexgrog), and the content users look for: every option of each program's
# --help, every setting the layer's code reads (settings_catalog) with its two
# environment variables, and every way to switch the layer on and off.
set -u

catalog=$1 run=$2 picture=$3
shift 3
warnings=mac,char,escape,font,missing,input,number,range,right-brace,scale,syntax,tab,delim,el
failures=0
fail() { echo "man_test: FAIL: $*" >&2; failures=$((failures + 1)); }

command -v man >/dev/null && command -v lexgrog >/dev/null ||
  { echo "man_test: FAIL: man and lexgrog (Debian package man-db) are needed" >&2; exit 1; }

# groff's warnings on PAGE at 80 columns.
groff_warnings() { MANROFFOPT=-Wbreak MANWIDTH=80 man -l --warnings="$warnings" "$1" 2>&1 >/dev/null; }

# PAGE as plain text on lines so long that no word is hyphenated or broken.
render() { MANWIDTH=2000 man -l "$1" 2>/dev/null | col -b | tr -s ' '; }

# The options a program's --help lists ("  --mode MODE ..." -> --mode).
help_options() {
  "$1" --help | grep -oE '^ +(-[a-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'
}

for page in "$@"; do
  name=$(basename "$page")
  text=$(render "$page")
  page_warnings=$(groff_warnings "$page")
  [ -z "$page_warnings" ] || fail "$name: groff warns: $page_warnings"
  [ -n "$text" ] || { fail "$name: man -l shows nothing"; continue; }
  lexgrog "$page" >/dev/null 2>&1 || fail "$name: lexgrog cannot read its NAME section (whatis would not find it)"
  for section in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
    grep -q "^$section\$" <<<"$text" || fail "$name: no $section section"
  done
  case "$name" in
    suballoc-run.1*)
      for option in $(help_options "$run"); do
        grep -qF -- "$option" <<<"$text" || fail "$name: no $option (suballoc-run --help has it)"
      done
      grep -qF "suballoc-run --check" <<<"$text" || fail "$name: --check is not explained" ;;
    suballoc-picture.1*)
      for option in $(help_options "$picture"); do
        grep -qF -- "$option" <<<"$text" || fail "$name: no $option (suballoc-picture --help has it)"
      done ;;
    VK_LAYER_TRANSPARENT_suballoc.7*)
      settings=$("$catalog" | cut -f 1)
      [ -n "$settings" ] || fail "$catalog lists no setting"
      for setting in $settings; do
        upper=$(tr '[:lower:]' '[:upper:]' <<<"$setting")
        for word in "$setting (default:" "VK_TRANSPARENT_SUBALLOC_$upper" "VK_SUBALLOC_$upper" \
                    "transparent_suballoc.$setting"; do
          grep -qF -- "$word" <<<"$text" || fail "$name: setting $setting: no '$word'"
        done
      done
      for way in suballoc-run "VK_INSTANCE_LAYERS=VK_LAYER_TRANSPARENT_suballoc" \
                 "VK_LOADER_LAYERS_ENABLE=VK_LAYER_TRANSPARENT_suballoc" \
                 "VK_LOADER_LAYERS_DISABLE=VK_LAYER_TRANSPARENT_suballoc" "ENABLE_TRANSPARENT_SUBALLOC=1" \
                 "DISABLE_TRANSPARENT_SUBALLOC=1" ppEnabledLayerNames Overridden Excluded "vkconfig 3.x" \
                 VkLayerSettingsCreateInfoEXT vk_layer_settings.txt VK_LAYER_SETTINGS_PATH; do
        grep -qF -- "$way" <<<"$text" || fail "$name: does not say '$way'"
      done ;;
    *) fail "$name: no content check for this page" ;;
  esac
  echo "man_test: $name: checked"
done

[ "$failures" -eq 0 ] || { echo "man_test: $failures problem(s)" >&2; exit 1; }
echo "man_test: $# page(s) ok"
