#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_dump: holds a JSON dump of VK_LAYER_TRANSPARENT_suballoc to VMA's format and to the truth.

  check_dump.py DUMP.json [--expect EXPECT.json] [--stats-file STATS.txt]
                [--written-at WHEN] [--picture-tool suballoc-picture --picture-dir DIR]

1. Structure: the dump validates (python3-jsonschema) against SCHEMA below, the
   rules of the format that vmaBuildStatsString(detailedMap = VK_TRUE) writes
   and VMA's GpuMemDumpVis reads, written here in this project's own words.
2. Consistency: in every block the suballocations are in offset order, touch
   end to end from 0 to TotalBytes (free ranges included), never overlap, and
   agree with the block's UnusedBytes, Allocations and UnusedRanges; each
   type's Stats add up from its blocks and dedicated allocations; heaps add up
   from their types; Total from the heaps.
3. --expect: what the app left live (stats_dump_app writes it): every named
   allocation appears once, with its name, in its memory type, with the Type of
   what it bound and at least its size; the count of allocations is exact.
4. --stats-file: the counts equal the layer's statistics line for the device
   (written at the same vkDestroyDevice): Total AllocationCount = app_leaked,
   Total BlockCount = driver_live, and no byte count above its peak
   (blocks, pass-through and all driver bytes).
5. --picture-tool: the dump draws, as PNG and as SVG.
Exits 1 and says why on the first broken rule of each kind.
"""
import argparse
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import jsonschema

UINT = {"type": "integer", "minimum": 0}
FLAGS = {"type": "array", "items": {"type": ["string", "integer"]}}
STATS = {
    "type": "object",
    "required": ["BlockCount", "BlockBytes", "AllocationCount", "AllocationBytes", "UnusedRangeCount"],
    "properties": {key: UINT for key in ("BlockCount", "BlockBytes", "AllocationCount", "AllocationBytes",
                                         "UnusedRangeCount", "AllocationSizeMin", "AllocationSizeMax",
                                         "UnusedRangeSizeMin", "UnusedRangeSizeMax")},
    "additionalProperties": False,
}
KINDS = ["FREE", "UNKNOWN", "BUFFER", "IMAGE_UNKNOWN", "IMAGE_LINEAR", "IMAGE_OPTIMAL"]
SUBALLOCATION = {
    "type": "object",
    "required": ["Offset", "Type", "Size"],
    "properties": {"Offset": UINT, "Type": {"enum": KINDS}, "Size": UINT, "Usage": UINT,
                   "Name": {"type": "string"}, "CustomData": {"type": "string"}},
    "additionalProperties": False,
}
DEDICATED = {
    "type": "object",
    "required": ["Type", "Size", "Usage"],  # GpuMemDumpVis reads all three
    "properties": {"Type": {"enum": KINDS[1:]}, "Size": UINT, "Usage": UINT,
                   "Name": {"type": "string"}, "CustomData": {"type": "string"}},
    "additionalProperties": False,
}
BLOCK = {
    "type": "object",
    "required": ["TotalBytes", "UnusedBytes", "Allocations", "UnusedRanges", "Suballocations"],
    "properties": {"MapRefCount": UINT, "TotalBytes": UINT, "UnusedBytes": UINT, "Allocations": UINT,
                   "UnusedRanges": UINT, "Suballocations": {"type": "array", "items": SUBALLOCATION}},
    "additionalProperties": False,
}
BLOCKS = {"type": "object", "propertyNames": {"pattern": "^[0-9]+$"}, "additionalProperties": BLOCK}
POOL = {
    "type": "object",
    "required": ["Blocks", "DedicatedAllocations"],
    "properties": {"PreferredBlockSize": UINT, "Blocks": BLOCKS,
                   "DedicatedAllocations": {"type": "array", "items": DEDICATED}},
    "additionalProperties": False,
}
CUSTOM_POOL = dict(POOL, required=["Name", "Blocks", "DedicatedAllocations"],
                   properties=dict(POOL["properties"], Name={"type": "string"}))
TYPE_KEY = {"pattern": "^Type [0-9]+$"}
SCHEMA = {
    "type": "object",
    "required": ["General", "Total", "MemoryInfo", "DefaultPools"],
    "properties": {
        "General": {
            "type": "object",
            "required": ["API", "GPU", "apiVersion", "memoryHeapCount", "memoryTypeCount"],
            "properties": {"API": {"const": "Vulkan"}, "GPU": {"type": "string"}, "apiVersion": {"type": "string"},
                           "memoryHeapCount": UINT, "memoryTypeCount": UINT},
        },
        "Total": STATS,
        "MemoryInfo": {
            "type": "object",
            "propertyNames": {"pattern": "^Heap [0-9]+$"},
            "additionalProperties": {
                "type": "object",
                "required": ["Flags", "Size", "Budget", "Stats", "MemoryPools"],
                "properties": {
                    "Flags": FLAGS, "Size": UINT, "Stats": STATS,
                    "Budget": {"type": "object", "required": ["BudgetBytes", "UsageBytes"],
                               "properties": {"BudgetBytes": UINT, "UsageBytes": UINT}, "additionalProperties": False},
                    "MemoryPools": {"type": "object", "propertyNames": TYPE_KEY,
                                    "additionalProperties": {"type": "object", "required": ["Flags", "Stats"],
                                                             "properties": {"Flags": FLAGS, "Stats": STATS},
                                                             "additionalProperties": False}},
                },
                "additionalProperties": False,
            },
        },
        "DefaultPools": {"type": "object", "propertyNames": TYPE_KEY, "additionalProperties": POOL},
        "CustomPools": {"type": "object", "propertyNames": TYPE_KEY,
                        "additionalProperties": {"type": "array", "items": CUSTOM_POOL}},
    },
}


class Broken(Exception):
    pass


def require(condition, message):
    if not condition:
        raise Broken(message)


def type_number(key):
    return int(key.split()[1])


def pools_of(dump):
    """(type index, where, pool) for every default and custom pool."""
    for key, pool in dump.get("DefaultPools", {}).items():
        yield type_number(key), f"DefaultPools/{key}", pool
    for key, pools in dump.get("CustomPools", {}).items():
        for n, pool in enumerate(pools):
            yield type_number(key), f"CustomPools/{key}/{n}", pool


def empty_stats():
    return {"BlockCount": 0, "BlockBytes": 0, "AllocationCount": 0, "AllocationBytes": 0, "UnusedRangeCount": 0,
            "sizes": [], "unused": []}


def check_block(where, block, stats):
    total = block["TotalBytes"]
    cursor = allocations = unused_ranges = unused_bytes = 0
    for n, item in enumerate(block["Suballocations"]):
        at = f"{where} suballocation {n}"
        require(item["Offset"] == cursor,
                f"{at}: Offset {item['Offset']}, but the previous range ended at {cursor} (gap or overlap)")
        require(item["Size"] > 0, f"{at}: Size 0")
        if item["Type"] == "FREE":
            require("Name" not in item, f"{at}: a free range has a Name")
            unused_ranges += 1
            unused_bytes += item["Size"]
            stats["unused"].append(item["Size"])
        else:
            allocations += 1
            stats["sizes"].append(item["Size"])
        cursor += item["Size"]
    require(cursor == total, f"{where}: suballocations end at {cursor}, TotalBytes is {total}")
    require(block["UnusedBytes"] == unused_bytes, f"{where}: UnusedBytes {block['UnusedBytes']}, free ranges hold {unused_bytes}")
    require(block["Allocations"] == allocations, f"{where}: Allocations {block['Allocations']}, counted {allocations}")
    require(block["UnusedRanges"] == unused_ranges, f"{where}: UnusedRanges {block['UnusedRanges']}, counted {unused_ranges}")
    stats["BlockCount"] += 1
    stats["BlockBytes"] += total
    stats["AllocationCount"] += allocations
    stats["AllocationBytes"] += total - unused_bytes
    stats["UnusedRangeCount"] += unused_ranges


def compare_stats(where, written, counted):
    for key in ("BlockCount", "BlockBytes", "AllocationCount", "AllocationBytes", "UnusedRangeCount"):
        require(written[key] == counted[key], f"{where}: {key} is {written[key]}, the blocks add up to {counted[key]}")
    for key, values, pick in (("AllocationSizeMin", counted["sizes"], min), ("AllocationSizeMax", counted["sizes"], max),
                              ("UnusedRangeSizeMin", counted["unused"], min), ("UnusedRangeSizeMax", counted["unused"], max)):
        if len(values) > 1:
            require(written.get(key) == pick(values), f"{where}: {key} is {written.get(key)}, expected {pick(values)}")


def merge(into, other):
    for key in ("BlockCount", "BlockBytes", "AllocationCount", "AllocationBytes", "UnusedRangeCount"):
        into[key] += other[key]
    into["sizes"] += other["sizes"]
    into["unused"] += other["unused"]


def check_consistency(dump):
    general = dump["General"]
    types = {}
    for type_index, where, pool in pools_of(dump):
        require(type_index < general["memoryTypeCount"], f"{where}: no such memory type")
        stats = types.setdefault(type_index, empty_stats())
        for block_id, block in pool["Blocks"].items():
            check_block(f"{where} block {block_id}", block, stats)
        for item in pool["DedicatedAllocations"]:
            stats["BlockCount"] += 1
            stats["BlockBytes"] += item["Size"]
            stats["AllocationCount"] += 1
            stats["AllocationBytes"] += item["Size"]
            stats["sizes"].append(item["Size"])
    require(len(dump["DefaultPools"]) == general["memoryTypeCount"], "DefaultPools does not list every memory type")
    total = empty_stats()
    heaps_seen = set()
    types_seen = set()
    for heap_key, heap in dump["MemoryInfo"].items():
        heap_stats = empty_stats()
        heaps_seen.add(heap_key)
        for type_key, info in heap["MemoryPools"].items():
            t = type_number(type_key)
            types_seen.add(t)
            counted = types.get(t, empty_stats())
            compare_stats(f"MemoryInfo/{heap_key}/{type_key} Stats", info["Stats"], counted)
            merge(heap_stats, counted)
        compare_stats(f"MemoryInfo/{heap_key} Stats", heap["Stats"], heap_stats)
        merge(total, heap_stats)
    require(len(heaps_seen) == general["memoryHeapCount"], "MemoryInfo does not list every heap")
    require(types_seen == set(range(general["memoryTypeCount"])), "MemoryInfo does not list every memory type once")
    compare_stats("Total", dump["Total"], total)


def named_allocations(dump):
    """name -> list of (type index, Type, Size, dedicated)."""
    found = {}
    for type_index, where, pool in pools_of(dump):
        for block in pool["Blocks"].values():
            for item in block["Suballocations"]:
                if "Name" in item:
                    found.setdefault(item["Name"], []).append((type_index, item["Type"], item["Size"], False))
        for item in pool["DedicatedAllocations"]:
            if "Name" in item:
                found.setdefault(item["Name"], []).append((type_index, item["Type"], item["Size"], True))
    return found


def check_expectations(dump, expect):
    found = named_allocations(dump)
    live = expect["live"]
    require(dump["Total"]["AllocationCount"] == len(live),
            f"the dump holds {dump['Total']['AllocationCount']} allocations, the app left {len(live)} live")
    dedicated = sum(len(p["DedicatedAllocations"]) for _, _, p in pools_of(dump))
    require(dedicated == sum(1 for l in live if l["dedicated"]),
            f"{dedicated} dedicated allocations, the app made {sum(1 for l in live if l['dedicated'])} the layer passes on")
    for allocation in live:
        if not allocation["named"]:
            continue
        # What a JSON reader gets back for the bytes the app gave: invalid UTF-8 becomes U+FFFD.
        name = bytes.fromhex(allocation["name_hex"]).decode("utf-8", errors="replace")
        where = f"allocation named {name!r}"
        require(name in found, f"{where} is not in the dump")
        require(len(found[name]) == 1, f"{where} appears {len(found[name])} times")
        type_index, kind, size, is_dedicated = found[name][0]
        require(type_index == allocation["memory_type"], f"{where}: in memory type {type_index}, allocated in {allocation['memory_type']}")
        require(kind == allocation["type"], f"{where}: Type {kind}, expected {allocation['type']}")
        require(is_dedicated == allocation["dedicated"], f"{where}: dedicated is {is_dedicated}, expected {allocation['dedicated']}")
        require(size >= allocation["size"], f"{where}: Size {size} is below the {allocation['size']} bytes allocated")
        require(is_dedicated is False or size == allocation["size"], f"{where}: a dedicated Size must be exact")
        require(size - allocation["size"] < 65536, f"{where}: Size {size} is far above the {allocation['size']} allocated")
    freed = [n for n in found if n.startswith("freed") or n.startswith("first name")]
    require(not freed, f"names of freed or renamed memory are in the dump: {freed}")


def stats_line(path):
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f if l.startswith("suballoc_stats ")]
    require(lines, f"{path} holds no suballoc_stats line")
    fields = {}
    for token in lines[-1].split('" ', 1)[-1].split():
        key, _, value = token.partition("=")
        fields[key] = value
    return fields


def check_stats_line(dump, path):
    line = stats_line(path)
    total = dump["Total"]
    require(total["AllocationCount"] == int(line["app_leaked"]),
            f"Total AllocationCount {total['AllocationCount']} != app_leaked {line['app_leaked']} of the stats line")
    require(total["BlockCount"] == int(line["driver_live"]),
            f"Total BlockCount {total['BlockCount']} != driver_live {line['driver_live']} of the stats line")
    blocks = sum(len(p["Blocks"]) for _, _, p in pools_of(dump))
    require(blocks <= int(line["blocks_peak"]), f"{blocks} blocks in the dump, blocks_peak is {line['blocks_peak']}")
    block_bytes = sum(b["TotalBytes"] for _, _, p in pools_of(dump) for b in p["Blocks"].values())
    require(block_bytes <= int(line["bytes_in_blocks_peak"]),
            f"{block_bytes} bytes in blocks, bytes_in_blocks_peak is {line['bytes_in_blocks_peak']}")
    dedicated = sum(d["Size"] for _, _, p in pools_of(dump) for d in p["DedicatedAllocations"])
    require(dedicated <= int(line["bytes_passthrough_peak"]),
            f"{dedicated} bytes passed through, bytes_passthrough_peak is {line['bytes_passthrough_peak']}")
    require(block_bytes + dedicated <= int(line["driver_bytes_peak"]),
            f"{block_bytes + dedicated} bytes in driver allocations, driver_bytes_peak is {line['driver_bytes_peak']}")
    require(line["mode"] == dump["General"].get("LayerMode"), f"mode {line['mode']} != LayerMode {dump['General'].get('LayerMode')}")


def check_pictures(dump_path, tool, folder):
    base = os.path.join(folder, os.path.splitext(os.path.basename(dump_path))[0])
    outs = [base + ".png", base + ".svg"]
    for out in outs:
        if os.path.exists(out):
            os.remove(out)
    run = subprocess.run([tool, dump_path] + outs, capture_output=True, text=True)
    require(run.returncode == 0, f"{tool} {dump_path} {' '.join(outs)} failed ({run.returncode}): {run.stderr.strip()}")
    for out in outs:
        extension = os.path.splitext(out)[1]
        require(os.path.isfile(out) and os.path.getsize(out) > 1000, f"{out} is missing or nearly empty")
        with open(out, "rb") as f:
            head = f.read()
        if extension == ".png":
            require(head.startswith(b"\x89PNG\r\n\x1a\n"), f"{out} is not a PNG")
        else:
            require(ElementTree.fromstring(head).tag.endswith("svg"), f"{out} is not an SVG document")
        print(f"check_dump: picture {out} ({len(head)} bytes)")


def check(dump_path, expect=None, stats_file=None, written_at=None, picture_tool=None, picture_dir=None):
    """All the checks asked for; raises Broken. Returns the dump."""
    try:
        with open(dump_path, "rb") as f:
            dump = json.loads(f.read().decode("utf-8"))  # strict: invalid UTF-8 is a broken dump
    except (OSError, ValueError) as e:
        raise Broken(f"{dump_path} is not readable JSON: {e}")
    try:
        jsonschema.validate(dump, SCHEMA)
    except jsonschema.ValidationError as e:
        path = "/".join(str(p) for p in e.absolute_path)
        raise Broken(f"structure: at '{path}': {e.message}")
    check_consistency(dump)
    if written_at:
        require(dump["General"].get("WrittenAt") == written_at,
                f"written at {dump['General'].get('WrittenAt')}, expected {written_at}")
    if expect:
        with open(expect, encoding="utf-8") as f:
            check_expectations(dump, json.load(f))
    if stats_file:
        check_stats_line(dump, stats_file)
    if picture_tool:
        check_pictures(dump_path, picture_tool, picture_dir or os.path.dirname(os.path.abspath(dump_path)))
    return dump


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dump")
    parser.add_argument("--expect")
    parser.add_argument("--stats-file")
    parser.add_argument("--written-at", help="vkDestroyDevice, interval or exit")
    parser.add_argument("--picture-tool")
    parser.add_argument("--picture-dir")
    args = parser.parse_args()
    try:
        dump = check(args.dump, args.expect, args.stats_file, args.written_at, args.picture_tool, args.picture_dir)
    except Broken as e:
        print(f"check_dump: FAIL: {args.dump}: {e}", file=sys.stderr)
        return 1
    total = dump["Total"]
    print(f"check_dump: {args.dump}: valid; {total['AllocationCount']} allocations in {total['BlockCount']} "
          f"driver allocations" + (", as the app left them" if args.expect else "")
          + (", as the stats line says" if args.stats_file else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
