# SPDX-License-Identifier: BSD-2-Clause
# Reads memtrace's JSON and py_lines.py's own report; prints "tag heap_bytes mmap_bytes blocks
# heap_bytes_at_peak" per tagged line, from memtrace's Python groups by line, then "complete
# True|False". One pass: a PYTHONMALLOC=malloc report runs to hundreds of MB.
# Usage: pylines.py MEMTRACE.json WL.json
import json
import sys

mt = json.load(open(sys.argv[1]))
wl = json.load(open(sys.argv[2]))
proc = [p for p in mt["processes"] if "python" in p][0]
by_line = {(g["file"], g["line"]): g for g in proc["python"]["groups"]["line"]}
for tag, no in sorted(wl["lines"].items()):
    g = by_line.get((wl["file"], no), {})
    print(tag, g.get("heap_outstanding_bytes", 0), g.get("mmap_outstanding_bytes", 0),
          g.get("outstanding_allocations", 0), g.get("heap_bytes_at_peak", 0))
print("complete", proc["python"]["complete"])
