#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""gen_man: fills a man page template (roff) from the project's own sources.

Usage: gen_man.py --template T.in --out OUT [--manifest M.json] [--help-of PROGRAM]
                  [--set NAME=VALUE]...

In the template:
  @SETTINGS@     every setting the layer reads, from the layer manifest (the
                 file the settings tests hold to the code's list of settings)
  @ENVIRONMENT@  the two environment variables of every setting, from the same
  @OPTIONS@      the options PROGRAM --help prints, so the page and the help
                 never disagree
  @NAME@         any --set NAME=VALUE
"""
import argparse
import json
import re
import subprocess
import sys

ENV_SHORT_PREFIX = "VK_SUBALLOC_"
FILE_PREFIX = "transparent_suballoc."


def roff(text):
    """Plain text as roff: backslashes and hyphens escaped, no line starting with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line for line in text.split("\n"))


def bold(text):
    return f"\\fB{roff(text)}\\fR"


def italic(text):
    return f"\\fI{roff(text)}\\fR"


def load_settings(path):
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    return manifest["layer"]["features"]["settings"]


def default_text(setting):
    value = setting.get("default")
    if value == "":
        return "empty"
    return value if isinstance(value, str) else json.dumps(value)


def settings_section(settings):
    out = []
    for s in settings:
        out.append(".TP")
        out.append(f"{bold(s['key'])} (default: {bold(default_text(s))})")
        out.append(roff(s["description"]))
        if s.get("type") == "ENUM":
            for flag in s.get("flags", []):
                out.append(".RS")
                out.append(".TP")
                out.append(bold(flag["key"]))
                out.append(roff(flag["description"]))
                out.append(".RE")
        elif "range" in s:
            low, high = s["range"].get("min"), s["range"].get("max")
            out.append(".br")
            out.append(roff(f"From {low} to {high}."))
        out.append(".br")
        out.append(f"Environment: {bold(s['env'])} or {bold(ENV_SHORT_PREFIX + s['key'].upper())}; "
                   f"settings file: {bold(FILE_PREFIX + s['key'])}.")
    return "\n".join(out)


def environment_section(settings):
    out = []
    for s in settings:
        out.append(".TP")
        out.append(f"{bold(s['env'])}, {bold(ENV_SHORT_PREFIX + s['key'].upper())}")
        out.append(roff(f"The setting {s['key']} (see SETTINGS)."))
    return "\n".join(out)


ITEM = re.compile(r"^  (\S.*?)(?:\s{2,}(\S.*))?$")
MORE = re.compile(r"^\s{4,}(\S.*)$")
SECTION = re.compile(r"^([A-Za-z][A-Za-z ]*):\s*$")


def options_section(program):
    """The items of every 'Options:' / 'positional arguments:' block of PROGRAM --help."""
    text = subprocess.run([program, "--help"], check=True, capture_output=True, text=True).stdout
    items, inside = [], False
    for line in text.splitlines():
        header = SECTION.match(line)
        if header:
            inside = header.group(1).lower() in ("options", "positional arguments")
        elif not inside or not line.strip():
            continue
        elif MORE.match(line) and items:
            items[-1][1] = (items[-1][1] + " " + MORE.match(line).group(1)).strip()
        elif ITEM.match(line):
            item = ITEM.match(line)
            items.append([item.group(1), item.group(2) or ""])
        else:
            inside = False
    if not items:
        sys.exit(f"gen_man: {program} --help shows no options")
    out = []
    for names, description in items:
        out.append(".TP")
        out.append(bold(names))
        out.append(roff(description))
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--manifest")
    parser.add_argument("--help-of")
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args()

    with open(args.template, encoding="utf-8") as f:
        page = f.read()
    if args.manifest:
        settings = load_settings(args.manifest)
        page = page.replace("@SETTINGS@", settings_section(settings))
        page = page.replace("@ENVIRONMENT@", environment_section(settings))
    if args.help_of:
        page = page.replace("@OPTIONS@", options_section(args.help_of))
    for assignment in args.set:
        name, _, value = assignment.partition("=")
        page = page.replace(f"@{name}@", value)
    left = sorted(set(re.findall(r"@[A-Z_]+@", page)))
    if left:
        sys.exit(f"gen_man: {args.template}: nothing filled in {', '.join(left)}")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(page)


if __name__ == "__main__":
    main()
