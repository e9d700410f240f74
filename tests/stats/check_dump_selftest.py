#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_dump_selftest: every rule of check_dump.py can fail.

  check_dump_selftest.py path/to/check_dump.py path/to/suballoc-picture

Builds a small valid dump by hand (two memory types, a block with a named
buffer, an image and free ranges, a dedicated allocation, a custom pool), shows
check_dump.py accepts it, then breaks it one way at a time and shows each
broken copy is refused, for the reason that was broken. Then the picture rule:
suballoc-picture draws the good dump (PNG and SVG), a picture tool that fails
is caught, and suballoc-picture refuses what it cannot draw.
"""
import copy
import importlib.util
import json
import os
import subprocess
import sys
import tempfile


def stats(blocks, block_bytes, allocations, allocation_bytes, unused, sizes=(), unused_sizes=()):
    s = {"BlockCount": blocks, "BlockBytes": block_bytes, "AllocationCount": allocations,
         "AllocationBytes": allocation_bytes, "UnusedRangeCount": unused}
    if len(sizes) > 1:
        s["AllocationSizeMin"], s["AllocationSizeMax"] = min(sizes), max(sizes)
    if len(unused_sizes) > 1:
        s["UnusedRangeSizeMin"], s["UnusedRangeSizeMax"] = min(unused_sizes), max(unused_sizes)
    return s


def good_dump():
    block = {"MapRefCount": 1, "TotalBytes": 1048576, "UnusedBytes": 1048576 - 4096 - 65536, "Allocations": 2,
             "UnusedRanges": 2, "Suballocations": [
                 {"Offset": 0, "Type": "BUFFER", "Size": 4096, "Usage": 0, "Name": "vertex \"buffer\""},
                 {"Offset": 4096, "Type": "FREE", "Size": 61440},
                 {"Offset": 65536, "Type": "IMAGE_UNKNOWN", "Size": 65536, "Usage": 0},
                 {"Offset": 131072, "Type": "FREE", "Size": 1048576 - 131072}]}
    custom = {"MapRefCount": 0, "TotalBytes": 1048576, "UnusedBytes": 1048576 - 8192, "Allocations": 1,
              "UnusedRanges": 1, "Suballocations": [
                  {"Offset": 0, "Type": "UNKNOWN", "Size": 8192, "Usage": 0, "Name": "addressable"},
                  {"Offset": 8192, "Type": "FREE", "Size": 1048576 - 8192}]}
    type0 = stats(3, 2 * 1048576 + 300000, 4, 4096 + 65536 + 8192 + 300000, 3, (4096, 65536, 8192, 300000),
                  (61440, 1048576 - 131072, 1048576 - 8192))
    type1 = stats(0, 0, 0, 0, 0)
    return {
        "General": {"API": "Vulkan", "apiVersion": "1.3.230", "GPU": "test GPU", "deviceType": 2,
                    "maxMemoryAllocationCount": 4096, "bufferImageGranularity": 1024, "nonCoherentAtomSize": 256,
                    "memoryHeapCount": 2, "memoryTypeCount": 2, "LayerMode": "suballocate",
                    "WrittenAt": "vkDestroyDevice"},
        "Total": copy.deepcopy(type0),
        "MemoryInfo": {
            "Heap 0": {"Flags": ["DEVICE_LOCAL"], "Size": 1 << 31, "Budget": {"BudgetBytes": 1 << 31, "UsageBytes": 0},
                       "Stats": copy.deepcopy(type0),
                       "MemoryPools": {"Type 0": {"Flags": ["DEVICE_LOCAL"], "Stats": copy.deepcopy(type0)}}},
            "Heap 1": {"Flags": [], "Size": 1 << 32, "Budget": {"BudgetBytes": 1 << 32, "UsageBytes": 0},
                       "Stats": copy.deepcopy(type1),
                       "MemoryPools": {"Type 1": {"Flags": ["HOST_VISIBLE", "HOST_COHERENT"],
                                                  "Stats": copy.deepcopy(type1)}}},
        },
        "DefaultPools": {
            "Type 0": {"PreferredBlockSize": 1 << 28, "Blocks": {"0": block},
                       "DedicatedAllocations": [{"Type": "UNKNOWN", "Size": 300000, "Usage": 0, "Name": "big"}]},
            "Type 1": {"PreferredBlockSize": 1 << 28, "Blocks": {}, "DedicatedAllocations": []},
        },
        "CustomPools": {"Type 0": [{"Name": "1 - device address", "PreferredBlockSize": 1 << 28,
                                    "Blocks": {"0": custom}, "DedicatedAllocations": []}]},
    }


def expectations():
    def hexed(name):
        return name.encode("utf-8").hex()
    return {"memory_types": 2, "live": [
        {"name_hex": hexed("vertex \"buffer\""), "named": True, "type": "BUFFER", "memory_type": 0, "size": 4000,
         "dedicated": False},
        {"name_hex": "", "named": False, "type": "IMAGE_UNKNOWN", "memory_type": 0, "size": 65536, "dedicated": False},
        {"name_hex": hexed("addressable"), "named": True, "type": "UNKNOWN", "memory_type": 0, "size": 8192,
         "dedicated": False},
        {"name_hex": hexed("big"), "named": True, "type": "UNKNOWN", "memory_type": 0, "size": 300000,
         "dedicated": True}]}


STATS_LINE = ('suballoc_stats device="test GPU" mode=suballocate app_allocations=9 app_live_peak=9 app_leaked=4 '
              'suballocated=8 passthrough=1 driver_allocations=3 driver_live_peak=3 blocks_peak=2 '
              'bytes_requested_peak=100000 bytes_in_blocks_peak=2097152 driver_bytes_peak=2397152 '
              'bytes_passthrough_peak=300000 driver_live=3\n')


def suballocation(dump, index):
    return dump["DefaultPools"]["Type 0"]["Blocks"]["0"]["Suballocations"][index]


def set_in(path, value):
    def change(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def delete_in(path):
    def change(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


BLOCK = ["DefaultPools", "Type 0", "Blocks", "0"]
BROKEN = [
    # (what is broken, how, words the refusal must contain)
    ("no General", delete_in(["General"]), "structure"),
    ("API is not Vulkan", set_in(["General", "API"], "Direct3D 12"), "structure"),
    ("a Stats key of its own", set_in(["Total", "Extra"], 1), "structure"),
    ("a negative size", lambda d: suballocation(d, 0).update(Size=-1), "structure"),
    ("an unknown Type", lambda d: suballocation(d, 0).update(Type="TEXTURE"), "structure"),
    ("a suballocation key of its own", lambda d: suballocation(d, 0).update(Handle="0x1"), "structure"),
    ("a dedicated allocation without Usage", lambda d: d["DefaultPools"]["Type 0"]["DedicatedAllocations"][0].pop("Usage"),
     "structure"),
    ("a heap named oddly", lambda d: d["MemoryInfo"].update({"heap 2": d["MemoryInfo"].pop("Heap 1")}), "structure"),
    ("Budget missing", delete_in(["MemoryInfo", "Heap 0", "Budget"]), "structure"),
    ("a gap between ranges", lambda d: suballocation(d, 1).update(Size=61439), "gap or overlap"),
    ("an overlap", lambda d: suballocation(d, 2).update(Offset=60000), "gap or overlap"),
    ("ranges short of the block", lambda d: suballocation(d, 3).update(Size=1), "TotalBytes"),
    ("UnusedBytes wrong", set_in(BLOCK + ["UnusedBytes"], 5), "UnusedBytes"),
    ("Allocations wrong", set_in(BLOCK + ["Allocations"], 3), "Allocations"),
    ("UnusedRanges wrong", set_in(BLOCK + ["UnusedRanges"], 1), "UnusedRanges"),
    ("type Stats that do not add up", set_in(["MemoryInfo", "Heap 0", "MemoryPools", "Type 0", "Stats", "BlockCount"], 9),
     "add up"),
    ("heap Stats that do not add up", set_in(["MemoryInfo", "Heap 0", "Stats", "AllocationBytes"], 1), "add up"),
    ("Total that does not add up", set_in(["Total", "UnusedRangeCount"], 0), "add up"),
    ("a wrong extreme", set_in(["Total", "AllocationSizeMax"], 1), "AllocationSizeMax"),
    ("a memory type missing from DefaultPools", delete_in(["DefaultPools", "Type 1"]), "every memory type"),
    ("a name lost", lambda d: suballocation(d, 0).pop("Name"), "not in the dump"),
    ("a name changed", lambda d: suballocation(d, 0).update(Name="vertex buffer"), "not in the dump"),
    ("a name given twice", lambda d: suballocation(d, 2).update(Name="vertex \"buffer\""), "appears 2 times"),
    ("a wrong Type", lambda d: suballocation(d, 0).update(Type="UNKNOWN"), "Type UNKNOWN, expected BUFFER"),
    ("written at the wrong time", set_in(["General", "WrittenAt"], "interval"), "written at interval"),
]
BROKEN_LINES = [
    ("app_leaked differs", STATS_LINE.replace("app_leaked=4", "app_leaked=5"), "app_leaked"),
    ("driver_live differs", STATS_LINE.replace("driver_live=3", "driver_live=2"), "driver_live"),
    ("blocks above their peak", STATS_LINE.replace("blocks_peak=2", "blocks_peak=1"), "blocks_peak"),
    ("mode differs", STATS_LINE.replace("mode=suballocate", "mode=passthrough"), "mode"),
    ("driver bytes above their peak", STATS_LINE.replace("driver_bytes_peak=2397152", "driver_bytes_peak=2397151"),
     "driver_bytes_peak"),
]


class Result:
    def __init__(self, returncode, stderr):
        self.returncode = returncode
        self.stderr = stderr


def picture_rules(checker, tool, work):
    failures = []
    path = os.path.join(work, "good.json")
    with open(path, "w") as f:
        json.dump(good_dump(), f)
    try:
        checker.check(path, picture_tool=tool, picture_dir=work)
        print("drawn: the good dump, as PNG and SVG")
    except checker.Broken as e:
        failures.append(f"the good dump did not draw: {e}")
    try:
        checker.check(path, picture_tool="/bin/false", picture_dir=work)
        failures.append("a picture tool that fails was not caught")
    except checker.Broken:
        print("refused: a picture tool that fails")
    not_json = os.path.join(work, "not.json")
    with open(not_json, "w") as f:
        f.write("{ not json")
    other_api = os.path.join(work, "d3d12.json")
    with open(other_api, "w") as f:
        json.dump({"General": {"API": "Direct3D 12", "GPU": "x"}}, f)
    for args, status, words in (([not_json, os.path.join(work, "x.png")], 1, "is not JSON"),
                                ([other_api, os.path.join(work, "x.png")], 1, "not a Vulkan memory dump"),
                                ([path, os.path.join(work, "x.jpg")], 2, "must end in .png or .svg"),
                                ([os.path.join(work, "missing.json"), os.path.join(work, "x.png")], 1, "cannot read")):
        run = subprocess.run([tool] + args, capture_output=True, text=True)
        if run.returncode != status or words not in run.stderr:
            failures.append(f"suballoc-picture {args}: status {run.returncode}, {run.stderr.strip()!r}")
        else:
            print(f"refused by suballoc-picture: {words}")
    return failures


def main():
    spec = importlib.util.spec_from_file_location("check_dump", sys.argv[1])
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)  # in this process: one import of jsonschema for every case
    failures = []
    with tempfile.TemporaryDirectory() as work:
        expect = os.path.join(work, "expect.json")
        stats_file = os.path.join(work, "stats.txt")
        def run(dump, line=STATS_LINE, raw=None, expected=None):
            with open(expect, "w") as f:
                json.dump(expected if expected is not None else expectations(), f)
            path = os.path.join(work, "dump.json")
            with open(path, "wb") as f:
                f.write(raw if raw is not None else json.dumps(dump).encode("utf-8"))
            with open(stats_file, "w") as f:
                f.write(line)
            try:
                checker.check(path, expect=expect, stats_file=stats_file, written_at="vkDestroyDevice")
            except checker.Broken as e:
                return Result(1, str(e))
            return Result(0, "")

        result = run(good_dump())
        if result.returncode != 0:
            print(f"the good dump is refused: {result.stderr}", file=sys.stderr)
            return 1
        print("accepted: the good dump")
        cases = [(what, change, words, None) for what, change, words in BROKEN]
        cases += [(what, None, words, line) for what, line, words in BROKEN_LINES]
        cases.append(("invalid UTF-8 in the file", None, "not readable JSON", "raw"))
        cases.append(("a leak missing from the dump", None, "the app left 5 live", "more"))
        cases.append(("a dedicated allocation the app did not make", None, "dedicated allocations", "sub"))
        for what, change, words, line in cases:
            dump = good_dump()
            if change is not None:
                change(dump)
            if line == "raw":
                result = run(None, raw=json.dumps(dump).replace("test GPU", "test \udcff").encode("utf-8", "surrogateescape"))
            elif line in ("more", "sub"):
                expected = expectations()
                if line == "more":
                    expected["live"].append(dict(expected["live"][1]))
                else:
                    expected["live"][3]["dedicated"] = False
                result = run(dump, expected=expected)
            else:
                result = run(dump, line if line is not None else STATS_LINE)
            if result.returncode == 0:
                failures.append(f"accepted a dump with {what}")
            elif words not in result.stderr:
                failures.append(f"refused {what} for another reason: {result.stderr.strip()}")
            else:
                print(f"refused: {what}")
        failures += picture_rules(checker, sys.argv[2], work)
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    print(f"{len(cases) - len(failures)} of {len(cases)} broken dumps refused for the right reason")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
