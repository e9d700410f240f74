#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_manifest: the layer's manifests and vkconfig files against the code.

The code's list of settings (suballoc_setting_names, printed by settings_catalog)
and the manifests' features.settings must name exactly the same settings. Every
default, enum word, range end and preset value a manifest shows a user must be
one the code itself accepts (asked through settings_catalog --accepts), so what
vkconfig offers can never be a value the layer rejects. vkconfig reads an INT
setting with QJsonValue::toInt(), a 32-bit signed integer (a larger number
becomes 0): every INT default, range end and value must fit in one. The
configurations are checked in the format of the vkconfig that reads them
(2.x: file_format_version 2.*, state OVERRIDDEN; 3.x: 3.*, control "on").
"""
import argparse
import json
import os
import re
import subprocess
import sys

LAYER = "VK_LAYER_TRANSPARENT_suballoc"
VKCONFIG_NAME_PATTERN = re.compile(r"^VK_LAYER_[A-Z0-9]+_[A-Za-z0-9_]+$")
ENV_PREFIX = "VK_TRANSPARENT_SUBALLOC_"
FILE_PREFIX = "transparent_suballoc."
SETTING_TYPES = {"BOOL", "BOOL_NUMERIC", "INT", "FLOAT", "STRING", "ENUM", "FLAGS", "FRAMES", "LIST",
                 "LOAD_FILE", "SAVE_FILE", "SAVE_FOLDER", "GROUP"}
IMPLICIT_ENABLE = {"ENABLE_TRANSPARENT_SUBALLOC": "1"}
IMPLICIT_DISABLE = {"DISABLE_TRANSPARENT_SUBALLOC": "1"}
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class Problems:
    def __init__(self):
        self.found = []

    def check(self, condition, where, message):
        if not condition:
            self.found.append(f"{where}: {message}")
        return condition


class Catalog:
    """What the code says, asked through the settings_catalog program."""

    def __init__(self, program):
        self.program = program
        out = subprocess.run([program], check=True, capture_output=True, text=True).stdout
        self.defaults = dict(line.split("\t", 1) for line in out.splitlines())
        self.names = list(self.defaults)

    def accepts(self, name, value):
        text = value if isinstance(value, str) else json.dumps(value)
        return subprocess.run([self.program, "--accepts", name, text], capture_output=True).returncode == 0


def load_json(path):
    def no_duplicate_keys(pairs):
        keys = [k for k, _ in pairs]
        duplicates = {k for k in keys if keys.count(k) > 1}
        if duplicates:
            raise ValueError(f"duplicate keys {sorted(duplicates)}")
        return dict(pairs)

    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=no_duplicate_keys)


def flatten(settings):
    """Every setting, including those nested under a setting or an enum flag."""
    for setting in settings:
        yield setting
        yield from flatten(setting.get("settings", []))
        for flag in setting.get("flags", []):
            yield from flatten(flag.get("settings", []))


def as_text(value):
    return value if isinstance(value, str) else json.dumps(value)


def is_int32(value):
    return isinstance(value, int) and not isinstance(value, bool) and INT32_MIN <= value <= INT32_MAX


def check_int32(setting, problems, where):
    """What vkconfig's QJsonValue::toInt() reads right: whole numbers of 32 bits, and a range it can offer."""
    problems.check(is_int32(setting.get("default")), where,
                   f"INT default {setting.get('default')!r} is not a 32-bit signed integer (vkconfig reads it as 0)")
    limits = setting.get("range", {})
    for end in ("min", "max"):
        problems.check(end in limits, where, f"INT setting has no range {end}: vkconfig would offer any 32-bit value")
        if end in limits:
            problems.check(is_int32(limits[end]), where, f"INT range {end} {limits[end]!r} is not a 32-bit signed integer")


def check_setting(setting, catalog, problems, where):
    key = setting.get("key", "?")
    where = f"{where} setting {key}"
    for field in ("key", "label", "description", "type", "default"):
        problems.check(field in setting, where, f"has no '{field}'")
    problems.check(setting.get("type") in SETTING_TYPES, where, f"type {setting.get('type')!r} is not a vkconfig type")
    problems.check(setting.get("env") == ENV_PREFIX + key.upper(), where,
                   f"env should be {ENV_PREFIX + key.upper()}, is {setting.get('env')!r}")
    if setting.get("type") == "INT":
        check_int32(setting, problems, where)
    if key not in catalog.defaults:
        return
    default = as_text(setting.get("default"))
    problems.check(default == catalog.defaults[key], where,
                   f"default {default!r} differs from the code's {catalog.defaults[key]!r}")
    problems.check(catalog.accepts(key, setting.get("default")), where, "the code rejects the default")
    if setting.get("type") == "ENUM":
        words = [flag.get("key") for flag in setting.get("flags", [])]
        problems.check(catalog.defaults[key] in words, where, "the code's default is not one of the flags")
        for word in words:
            problems.check(catalog.accepts(key, word), where, f"the code rejects the flag {word!r}")
    if "range" in setting:
        low, high = setting["range"].get("min"), setting["range"].get("max")
        for end, inside in ((low, True), (high, True)):
            if end is not None:
                problems.check(catalog.accepts(key, end) == inside, where, f"the code rejects range end {end}")
        if low is not None:
            problems.check(not catalog.accepts(key, low - 1), where, f"the code takes {low - 1}, below the range")
        if high is not None:
            problems.check(not catalog.accepts(key, high + 1), where, f"the code takes {high + 1}, above the range")


def check_value_type(value, setting_type, problems, where):
    """A preset's or configuration's value, as the vkconfig type of its setting reads it."""
    if setting_type == "INT":
        problems.check(is_int32(value), where, f"INT value {value!r} is not a 32-bit signed integer (vkconfig reads it as 0)")
    elif setting_type in ("STRING", "ENUM", "SAVE_FILE", "LOAD_FILE", "SAVE_FOLDER"):
        problems.check(isinstance(value, str), where, f"{setting_type} value {value!r} is not a string")


def check_presets(presets, types, catalog, problems, where):
    problems.check(len(presets) >= 3, where, "fewer than three presets")
    for preset in presets:
        label = preset.get("label", "?")
        for field in ("label", "description", "settings"):
            problems.check(field in preset, f"{where} preset {label}", f"has no '{field}'")
        for entry in preset.get("settings", []):
            key, value = entry.get("key"), entry.get("value")
            at = f"{where} preset {label} setting {key}"
            if problems.check(key in catalog.defaults, at, "names no setting the code reads"):
                problems.check(catalog.accepts(key, value), at, f"the code rejects the value {value!r}")
                check_value_type(value, types.get(key), problems, at)


def check_url(url, problems, where):
    """vkconfig links the layer to its url: a web page, or a file that exists."""
    if not problems.check(isinstance(url, str) and url != "", where, "has no url"):
        return
    if url.startswith("file://"):
        problems.check(os.path.isfile(url[len("file://"):]), where, f"url {url} names no file")
    else:
        problems.check(re.match(r"^https?://[^/\s]+", url) is not None, where, f"url {url} is not a web or file URL")


def resolve_library(manifest_path, library_path):
    if "/" in library_path and not os.path.isabs(library_path):
        return os.path.normpath(os.path.join(os.path.dirname(manifest_path), library_path))
    return library_path


def check_manifest(path, kind, catalog, problems):
    where = f"{path}"
    try:
        doc = load_json(path)
    except (OSError, ValueError) as e:
        problems.check(False, where, f"is not valid JSON: {e}")
        return {}
    problems.check(doc.get("file_format_version") == "1.2.0", where, "file_format_version is not 1.2.0")
    layer = doc.get("layer", {})
    problems.check(layer.get("name") == LAYER, where, f"layer name is not {LAYER}")
    problems.check(bool(VKCONFIG_NAME_PATTERN.match(layer.get("name", ""))), where, "name does not fit vkconfig's pattern")
    problems.check(layer.get("type") == "GLOBAL", where, "type is not GLOBAL")
    problems.check(layer.get("api_version") == "1.3.239", where, "api_version is not 1.3.239")
    problems.check(str(layer.get("implementation_version", "")).isdigit(), where, "implementation_version is not a number")
    problems.check(bool(layer.get("description")), where, "has no description")
    check_url(layer.get("url"), problems, where)
    library = resolve_library(path, layer.get("library_path", ""))
    problems.check(os.path.isfile(library), where, f"library_path leads to {library}, which is not a file")
    advertised = {"name": "VK_EXT_layer_settings", "spec_version": "2"} in layer.get("instance_extensions", [])
    if kind == "implicit":
        # Offered to every app, it makes loader 1.3.239 refuse apps that enable all they are offered.
        problems.check("instance_extensions" not in layer, where, "an implicit manifest advertises instance extensions")
        problems.check(layer.get("enable_environment") == IMPLICIT_ENABLE, where, f"enable_environment is not {IMPLICIT_ENABLE}")
        problems.check(layer.get("disable_environment") == IMPLICIT_DISABLE, where,
                       f"disable_environment is not {IMPLICIT_DISABLE}")
    else:
        problems.check(advertised, where, "does not advertise VK_EXT_layer_settings spec_version 2")
        problems.check("enable_environment" not in layer and "disable_environment" not in layer, where,
                       "an explicit manifest carries implicit-layer activation")

    features = layer.get("features", {})
    settings = list(flatten(features.get("settings", [])))
    keys = [s.get("key") for s in settings]
    problems.check(len(keys) == len(set(keys)), where, "describes a setting twice")
    missing = sorted(set(catalog.names) - set(keys))
    extra = sorted(set(keys) - set(catalog.names))
    problems.check(not missing, where, f"does not describe settings the code reads: {missing}")
    problems.check(not extra, where, f"describes settings the code does not read: {extra}")
    types = {s.get("key"): s.get("type") for s in settings}
    for setting in settings:
        check_setting(setting, catalog, problems, where)
    check_presets(features.get("presets", []), types, catalog, problems, where)
    return types


def check_configuration(path, major, types, catalog, problems):
    """A vkconfig configuration: `major` 2 for vkconfig 2.x (format 2.2.1), 3 for vkconfig 3.x (3.0.0)."""
    where = f"{path}"
    doc = load_json(path)
    version = str(doc.get("file_format_version", ""))
    problems.check(version.startswith(f"{major}."), where,
                   f"file_format_version {version!r} is not one vkconfig {major}.x reads ({major}.*)")
    configuration = doc.get("configuration", {})
    for field in ("name", "description", "layers"):
        problems.check(field in configuration, where, f"has no '{field}'")
    if major >= 3:
        problems.check(isinstance(configuration.get("version"), int), where, "has no configuration version number")
    layers = [l for l in configuration.get("layers", []) if l.get("name") == LAYER]
    if not problems.check(len(layers) == 1, where, f"does not configure {LAYER} once"):
        return
    layer = layers[0]
    if major == 2:
        problems.check(layer.get("state") == "OVERRIDDEN", where, "does not switch the layer on (state OVERRIDDEN)")
    else:
        problems.check(layer.get("control") == "on", where, 'does not switch the layer on (control "on")')
        problems.check(layer.get("version") == "latest", where, 'does not ask for the installed layer (version "latest")')
        problems.check("state" not in layer, where, "carries vkconfig 2's 'state', which 3.x does not read")
    given = [s.get("key") for s in layer.get("settings", [])]
    problems.check(sorted(given) == sorted(catalog.names), where, "does not set exactly the settings the code reads")
    for entry in layer.get("settings", []):
        key, value = entry.get("key"), entry.get("value")
        at = f"{where} setting {key}"
        if problems.check(key in catalog.defaults, at, "names no setting the code reads"):
            problems.check(entry.get("type") == types.get(key), at, f"type {entry.get('type')} differs from the manifest's")
            problems.check(catalog.accepts(key, value), at, f"the code rejects {value!r}")
            check_value_type(value, types.get(key), problems, at)


def check_settings_file(path, catalog, problems):
    given = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0]
            if "=" not in line:
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            if key.startswith(FILE_PREFIX):
                given[key[len(FILE_PREFIX):]] = (value, number)
    problems.check(sorted(given) == sorted(catalog.names), path, "does not set exactly the settings the code reads")
    for name, (value, number) in given.items():
        problems.check(catalog.accepts(name, value), f"{path}:{number}", f"the code rejects {name} = {value!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", required=True, help="the settings_catalog program")
    parser.add_argument("--explicit", action="append", default=[], help="an explicit layer manifest")
    parser.add_argument("--implicit", action="append", default=[], help="an implicit layer manifest")
    parser.add_argument("--vkconfig-configuration", action="append", default=[], help="a vkconfig 2.x configuration")
    parser.add_argument("--vkconfig3-configuration", action="append", default=[], help="a vkconfig 3.x configuration")
    parser.add_argument("--settings-file", action="append", default=[])
    args = parser.parse_args()

    catalog = Catalog(args.catalog)
    problems = Problems()
    problems.check(len(catalog.names) > 0, args.catalog, "lists no setting")
    types = {}
    for path in args.explicit:
        types = check_manifest(path, "explicit", catalog, problems) or types
    for path in args.implicit:
        check_manifest(path, "implicit", catalog, problems)
    for path in args.vkconfig_configuration:
        check_configuration(path, 2, types, catalog, problems)
    for path in args.vkconfig3_configuration:
        check_configuration(path, 3, types, catalog, problems)
    for path in args.settings_file:
        check_settings_file(path, catalog, problems)

    checked = (len(args.explicit) + len(args.implicit) + len(args.vkconfig_configuration) +
               len(args.vkconfig3_configuration) + len(args.settings_file))
    if problems.found:
        print("\n".join(problems.found), file=sys.stderr)
        print(f"check_manifest: {len(problems.found)} problem(s) in {checked} file(s)", file=sys.stderr)
        return 1
    print(f"check_manifest: {checked} file(s) describe exactly the {len(catalog.names)} settings the code reads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
