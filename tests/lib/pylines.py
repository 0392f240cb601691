# SPDX-License-Identifier: BSD-2-Clause
# Reads memtrace's JSON and py_lines.py's own report; prints "tag heap_bytes mmap_bytes blocks
# heap_bytes_at_peak" per tagged line, from memtrace's Python groups by line, then "complete
# True|False", then "python VERSION FRAMES UNAVAILABLE", of the first process with a Python view.
# Tests that query the report further import line_report and python_views rather than run this.
# Usage: pylines.py MEMTRACE.json WL.json
import json
import mmap
import sys


def python_views(path):
    """Each process's "python" object, in report order, without parsing the rest of the report.

    A PYTHONMALLOC=malloc report runs to hundreds of MB, nearly all of it the processes' stacks,
    and json.load takes half a minute on it; its Python view is a few tens of MB. memtrace writes
    the report indented: the key is on a line of its own at the process object's indentation
    (six spaces), and the object ends at the first line that is that indentation and a brace
    (a newline is never raw inside a JSON string). What lies between is parsed by json itself,
    so a report written otherwise fails here rather than passing unread."""
    key, close = b'\n      "python": ', b'\n      }'
    views = []
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        i = m.find(key)
        while i >= 0:
            end = m.find(close, i)
            views.append(json.loads(m[i + len(key):end + len(close)].decode()))
            i = m.find(key, end)
    if not views:
        raise SystemExit("%s: no process with a Python view" % path)
    return views


def line_report(py, wl):
    """The lines printed, from one process's "python" object and the workload's own report."""
    by_line = {(g["file"], g["line"]): g for g in py["groups"]["line"]}
    out = []
    for tag, no in sorted(wl["lines"].items()):
        g = by_line.get((wl["file"], no), {})
        out.append(" ".join(str(v) for v in (tag, g.get("heap_outstanding_bytes", 0),
                   g.get("mmap_outstanding_bytes", 0), g.get("outstanding_allocations", 0),
                   g.get("heap_bytes_at_peak", 0))))
    out.append("complete %s" % py["complete"])
    out.append("python %s %s %s" % (py["version"], py["frames"], py["unavailable"]))
    return out


if __name__ == "__main__":
    for line in line_report(python_views(sys.argv[1])[0], json.load(open(sys.argv[2]))):
        print(line)
