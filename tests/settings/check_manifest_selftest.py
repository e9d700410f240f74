#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_manifest_selftest: every rule check_manifest.py holds a file to can fail.

Usage: check_manifest_selftest.py CHECK_MANIFEST CATALOG EXPLICIT IMPLICIT VKCONFIG2 VKCONFIG3 SETTINGS_FILE

First the real files must pass; then each case breaks one thing in a copy of
one of them and check_manifest.py must refuse it, naming the problem.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile


def run(check, catalog, files):
    args = [sys.executable, check, "--catalog", catalog]
    for option, path in files:
        args += [option, path]
    done = subprocess.run(args, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def setting(doc, key):
    for s in doc["layer"]["features"]["settings"]:
        if s["key"] == key:
            return s
    raise KeyError(key)


def config_setting(doc, key):
    for s in doc["configuration"]["layers"][0]["settings"]:
        if s["key"] == key:
            return s
    raise KeyError(key)


def main():
    check, catalog, explicit, implicit, vkconfig2, vkconfig3, settings_file = sys.argv[1:8]
    real = [("--explicit", explicit), ("--implicit", implicit), ("--vkconfig-configuration", vkconfig2),
            ("--vkconfig3-configuration", vkconfig3), ("--settings-file", settings_file)]
    status, output = run(check, catalog, real)
    if status != 0:
        print(f"check_manifest_selftest: the real files do not pass:\n{output}", file=sys.stderr)
        return 1

    docs = {}
    for option, path in real[:4]:
        with open(path, encoding="utf-8") as f:
            docs[option] = json.load(f)

    def int_too_big(m):   # what reported_allocation_limit was: vkconfig reads it as 0
        s = setting(m, "stats_interval")
        s["default"] = 4294967295
    def int_range_too_big(m):
        setting(m, "stats_interval")["range"]["max"] = 2**31
    def int_no_max(m):
        del setting(m, "stats_interval")["range"]["max"]
    def preset_int_too_big(m):
        m["layer"]["features"]["presets"][2]["settings"].append({"key": "stats_interval", "value": 4294967295})
    def preset_string_as_number(m):
        m["layer"]["features"]["presets"][0]["settings"].append({"key": "block_size", "value": 0})
    def no_url(m):
        del m["layer"]["url"]
    def url_to_nothing(m):
        m["layer"]["url"] = "file:///nonexistent/README.md"
    def url_not_a_url(m):
        m["layer"]["url"] = "see the README"
    def setting_missing(m):
        m["layer"]["features"]["settings"] = [s for s in m["layer"]["features"]["settings"] if s["key"] != "log_file"]
    def default_differs(m):
        setting(m, "mode")["default"] = "passthrough"
    def explicit_with_activation(m):
        m["layer"]["enable_environment"] = {"ENABLE_TRANSPARENT_SUBALLOC": "1"}
    def config2_as_3(c):
        c["file_format_version"] = "3.0.0"
    def config2_not_on(c):
        c["configuration"]["layers"][0]["state"] = "APPLICATION_CONTROLLED"
    def config2_int_too_big(c):
        config_setting(c, "stats_interval")["value"] = 4294967295
    def config3_as_2(c):
        c["file_format_version"] = "2.2.1"
    def config3_not_on(c):
        c["configuration"]["layers"][0]["control"] = "auto"
    def config3_no_latest(c):
        del c["configuration"]["layers"][0]["version"]
    def config3_with_state(c):
        c["configuration"]["layers"][0]["state"] = "OVERRIDDEN"
    def config3_type_differs(c):
        config_setting(c, "reported_allocation_limit")["type"] = "INT"
    def config3_bad_value(c):
        config_setting(c, "mode")["value"] = "sideways"

    cases = [
        ("--explicit", int_too_big, "is not a 32-bit signed integer"),
        ("--explicit", int_range_too_big, "INT range max"),
        ("--explicit", int_no_max, "has no range max"),
        ("--explicit", preset_int_too_big, "INT value 4294967295"),
        ("--explicit", preset_string_as_number, "is not a string"),
        ("--explicit", no_url, "has no url"),
        ("--explicit", url_to_nothing, "names no file"),
        ("--explicit", url_not_a_url, "is not a web or file URL"),
        ("--explicit", setting_missing, "does not describe settings the code reads"),
        ("--explicit", default_differs, "differs from the code's"),
        ("--explicit", explicit_with_activation, "carries implicit-layer activation"),
        ("--implicit", no_url, "has no url"),
        ("--vkconfig-configuration", config2_as_3, "is not one vkconfig 2.x reads"),
        ("--vkconfig-configuration", config2_not_on, "state OVERRIDDEN"),
        ("--vkconfig-configuration", config2_int_too_big, "INT value 4294967295"),
        ("--vkconfig3-configuration", config3_as_2, "is not one vkconfig 3.x reads"),
        ("--vkconfig3-configuration", config3_not_on, 'control "on"'),
        ("--vkconfig3-configuration", config3_no_latest, 'version "latest"'),
        ("--vkconfig3-configuration", config3_with_state, "'state'"),
        ("--vkconfig3-configuration", config3_type_differs, "differs from the manifest's"),
        ("--vkconfig3-configuration", config3_bad_value, "the code rejects"),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        for option, breaker, expected in cases:
            doc = copy.deepcopy(docs[option])
            breaker(doc)
            original = dict(real)[option]
            broken = os.path.join(work, os.path.basename(original))
            with open(broken, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            # The manifest's relative library_path must still resolve from the copy.
            if option in ("--explicit", "--implicit"):
                library = doc["layer"]["library_path"]
                if not os.path.isabs(library):
                    doc["layer"]["library_path"] = os.path.normpath(os.path.join(os.path.dirname(original), library))
                    with open(broken, "w", encoding="utf-8") as f:
                        json.dump(doc, f)
            # Only the broken file, with the explicit manifest a configuration's types come from.
            files = [(option, broken)] if option in ("--explicit", "--implicit") else [real[0], (option, broken)]
            status, output = run(check, catalog, files)
            if status == 0 or expected not in output:
                failures += 1
                print(f"FAIL: {breaker.__name__}: check_manifest {'passed' if status == 0 else 'failed'} "
                      f"without saying {expected!r}:\n{output}", file=sys.stderr)
            else:
                print(f"ok: {breaker.__name__} is refused")
    if failures:
        print(f"check_manifest_selftest: {failures} of {len(cases)} broken files were not refused", file=sys.stderr)
        return 1
    print(f"check_manifest_selftest: all {len(cases)} broken files refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
