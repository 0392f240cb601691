# SPDX-License-Identifier: BSD-2-Clause
"""Sum a memtrace JSON report by call-site function: python3 site.py REPORT.json [KIND]
Prints 'function bytes blocks' lines, sorted; the call site is the stack's "site" frame.
Tests that read more of the same report load this file as a module and call by_site."""
import json
import sys


def by_site(d, kind="heap"):
    """[(function, bytes, blocks)] held per call-site function, sorted, from a loaded report."""
    by = {}
    for p in d["processes"]:
        for s in p["stacks"]:
            if s["kind"] != kind or not s["outstanding_allocations"]:
                continue
            f = s["frames"][s["site"]]["function"] if s["frames"] else None
            b = by.setdefault(f or "?", [0, 0])
            b[0] += s["outstanding_bytes"]
            b[1] += s["outstanding_allocations"]
    return [(f, by[f][0], by[f][1]) for f in sorted(by)]


if __name__ == "__main__":
    for f, b, n in by_site(json.load(open(sys.argv[1])), sys.argv[2] if len(sys.argv) > 2 else "heap"):
        print(f, b, n)
