# SPDX-License-Identifier: BSD-2-Clause
"""Sum a memtrace JSON report's page faults by the touching stack's site function:
python3 faults.py REPORT.json [MAPPING]  ->  'function minor major bytes' lines, sorted."""
import json
import sys

d = json.load(open(sys.argv[1]))
mapping = sys.argv[2] if len(sys.argv) > 2 else None
by = {}
for p in d["processes"]:
    for s in p["resident"]["stacks"]:
        if mapping and s["mapping"] != mapping:
            continue
        f = s["frames"][s["site"]]["function"] if s["frames"] else None
        b = by.setdefault(f or "?", [0, 0, 0])
        b[0] += s["minor_faults"]
        b[1] += s["major_faults"]
        b[2] += s["bytes"]
for f in sorted(by):
    print(f, *by[f])
