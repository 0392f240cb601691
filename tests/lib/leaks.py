# SPDX-License-Identifier: BSD-2-Clause
"""Leak verdicts, memtrace's and valgrind's, in one form to compare them:
  python3 leaks.py mt REPORT.json          memtrace --leak-check's JSON
  python3 leaks.py vg VG.xml BINARY        valgrind --leak-check=full --show-leak-kinds=all --xml
  python3 leaks.py summary VG.log          valgrind's LEAK SUMMARY (text log)
mt and vg print 'category function bytes blocks' lines, sorted, summed by call-site function
(valgrind's: the first frame inside BINARY, memtrace's: the stack's site frame), names as the
object spells them (mangled: run valgrind with --demangle=no); summary and
'mt --totals' print 'category bytes blocks' per category."""
import json
import re
import sys
import xml.etree.ElementTree as ET

KINDS = ["definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable"]
VG_KINDS = {"Leak_DefinitelyLost": "definitely_lost", "Leak_IndirectlyLost": "indirectly_lost",
            "Leak_PossiblyLost": "possibly_lost", "Leak_StillReachable": "still_reachable"}


def mt(path):
    by = {}
    for p in json.load(open(path))["processes"]:
        for s in p["stacks"]:
            lc = s.get("leak_check")
            if not lc:
                continue
            fr = s["frames"][s["site"]] if s["frames"] else {}
            f = fr.get("mangled") or fr.get("function") or "?"  # as valgrind --demangle=no
            for k in KINDS:
                if lc[k]["blocks"]:
                    b = by.setdefault((k, f), [0, 0])
                    b[0] += lc[k]["bytes"]
                    b[1] += lc[k]["blocks"]
    return by


def mt_totals(path):
    out = []
    for p in json.load(open(path))["processes"]:
        lc = p.get("leak_check") or {}
        for k in KINDS:
            if k in lc:
                out.append("%s %d %d" % (k, lc[k]["bytes"], lc[k]["blocks"]))
    return out


def vg(path, binary):
    by = {}
    for err in ET.parse(path).getroot().iter("error"):
        k = VG_KINDS.get(err.findtext("kind", ""))
        if not k:
            continue
        xw = err.find("xwhat")
        f = "?"
        for fr in err.find("stack").iter("frame"):
            if fr.findtext("obj", "").endswith("/" + binary):
                f = fr.findtext("fn", "?")
                break
        nbytes = int(xw.findtext("leakedbytes"))
        # A definitely lost record's bytes include what is lost behind it: "(D direct, I indirect)".
        m = re.search(r"\(([\d,]+) direct, [\d,]+ indirect\)", xw.findtext("text", ""))
        if m:
            nbytes = int(m.group(1).replace(",", ""))
        b = by.setdefault((k, f), [0, 0])
        b[0] += nbytes
        b[1] += int(xw.findtext("leakedblocks"))
    return by


def summary(path):
    words = {"definitely lost": KINDS[0], "indirectly lost": KINDS[1], "possibly lost": KINDS[2],
             "still reachable": KINDS[3]}
    out = {}
    for line in open(path):
        m = re.search(r"(definitely lost|indirectly lost|possibly lost|still reachable): "
                      r"([\d,]+) bytes in ([\d,]+) blocks", line)
        if m:
            out[words[m.group(1)]] = "%s %s %s" % (words[m.group(1)], m.group(2).replace(",", ""),
                                                   m.group(3).replace(",", ""))
    return [out[k] for k in KINDS if k in out]


if __name__ == "__main__":
    if sys.argv[1] == "summary":
        print("\n".join(summary(sys.argv[2])))
    elif sys.argv[1] == "mt" and sys.argv[2] == "--totals":
        print("\n".join(mt_totals(sys.argv[3])))
    else:
        by = mt(sys.argv[2]) if sys.argv[1] == "mt" else vg(sys.argv[2], sys.argv[3])
        for (k, f) in sorted(by):
            print(k, f, by[(k, f)][0], by[(k, f)][1])
