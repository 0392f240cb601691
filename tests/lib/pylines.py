# SPDX-License-Identifier: BSD-2-Clause
# Reads memtrace's JSON and py_lines.py's own report; prints "tag heap_bytes mmap_bytes blocks
# heap_bytes_at_peak" per tagged line, from memtrace's Python groups by line, then "complete
# True|False". One pass: a PYTHONMALLOC=malloc report runs to hundreds of MB. Tests that query
# the same report further import it (line_report) rather than load the report again.
# Usage: pylines.py MEMTRACE.json WL.json
import json
import sys


def line_report(mt, wl):
    """The lines printed, from the loaded memtrace report and workload report."""
    proc = [p for p in mt["processes"] if "python" in p][0]
    by_line = {(g["file"], g["line"]): g for g in proc["python"]["groups"]["line"]}
    out = []
    for tag, no in sorted(wl["lines"].items()):
        g = by_line.get((wl["file"], no), {})
        out.append(" ".join(str(v) for v in (tag, g.get("heap_outstanding_bytes", 0),
                   g.get("mmap_outstanding_bytes", 0), g.get("outstanding_allocations", 0),
                   g.get("heap_bytes_at_peak", 0))))
    out.append("complete %s" % proc["python"]["complete"])
    return out


if __name__ == "__main__":
    for line in line_report(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))):
        print(line)
