# SPDX-License-Identifier: BSD-2-Clause
"""Sum a memtrace JSON report by call-site function: python3 site.py REPORT.json [KIND]
Prints 'function bytes blocks' lines, sorted; the call site is the stack's "site" frame."""
import json
import sys

d = json.load(open(sys.argv[1]))
kind = sys.argv[2] if len(sys.argv) > 2 else "heap"
by = {}
for p in d["processes"]:
    for s in p["stacks"]:
        if s["kind"] != kind or not s["outstanding_allocations"]:
            continue
        f = s["frames"][s["site"]]["function"] if s["frames"] else None
        b = by.setdefault(f or "?", [0, 0])
        b[0] += s["outstanding_bytes"]
        b[1] += s["outstanding_allocations"]
for f in sorted(by):
    print(f, by[f][0], by[f][1])
