# SPDX-License-Identifier: BSD-2-Clause
"""Valgrind's view of a run, for checking memtrace against it: python3 vgsites.py VG.xml BINARY
Prints the leak records summed by the first frame inside BINARY (bytes blocks per function), the
way site.py sums memtrace's report. Valgrind replaces malloc in-process: an independent witness."""
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
binary = sys.argv[2]
by = {}
for err in root.iter("error"):
    if not err.findtext("kind", "").startswith("Leak_"):
        continue
    xw = err.find("xwhat")
    nbytes, nblocks = int(xw.findtext("leakedbytes")), int(xw.findtext("leakedblocks"))
    fn = "?"
    for fr in err.find("stack").iter("frame"):
        if fr.findtext("obj", "").endswith(binary):
            fn = fr.findtext("fn", "?")
            break
    b = by.setdefault(fn, [0, 0])
    b[0] += nbytes
    b[1] += nblocks
for f in sorted(by):
    print(f, by[f][0], by[f][1])
