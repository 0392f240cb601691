#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Python lines hold known memory (tests/workloads/py_lines.py under Debian's /usr/bin/python3):
# memtrace's per-line outstanding bytes match the known amounts and tracemalloc's own statistics
# from the same process; an allocation in a thread that released the GIL (a ctypes call to
# malloc) is charged to that thread's Python line, not to the line the GIL holder is running.
#
# Tolerance: with pymalloc, memtrace sees every block over 512 bytes (they go to malloc) and
# tracemalloc counts the same requested sizes, so memtrace's heap bytes at a line must be at
# least tracemalloc's bytes in blocks over 512 at that line. It may exceed them by a little (a
# few small mallocs of the interpreter's own at that line; tracemalloc's trace entries, one malloc
# per traced block, are freed when the workload stops tracemalloc after its snapshot): allowed up
# to 1% of the line's bytes or 4 KiB, whichever is larger.
source "$(dirname "$0")/../lib/tap.sh"
need_root
PY=/usr/bin/python3
need_pkg "$PY" python3
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || skip_all "$PY is not CPython 3.11"

"$MEMTRACE" --no-live --json "$TMP/r.json" -o "$TMP/report.txt" --group-by function -- \
	"$PY" "$ROOT/tests/workloads/py_lines.py" "$TMP/wl.json" >/dev/null 2>"$TMP/err"
is "$?" 0 "memtrace traces the Python workload to its end"
# The report runs to tens of MB: it is loaded once, and every value checked below is read from
# it in that one pass (the per-line table of tests/lib/pylines.py, then one query per line of
# "$TMP/q", "name<TAB>value").
cat >"$TMP/query.py" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[3])
from pylines import line_report
d = json.load(open(sys.argv[1]))
wl = json.load(open(sys.argv[2] + "/wl.json"))
with open(sys.argv[2] + "/lines", "w") as f:
    f.write("".join(line + "\n" for line in line_report(d["processes"][0]["python"], wl)))
p = d["processes"][0]
q = {"python": (p["python"]["version"][:5], p["python"]["frames"], p["python"]["unavailable"]),
     "lost": (d["lost_events_by_reason"]["python_stack_cut"], d["lost_events_by_reason"]["ringbuf_full"]),
     "released": [[f["function"] for f in g["traceback"]] for g in p["python"]["groups"]["traceback"]
                  if g["heap_outstanding_bytes"] >= 16666665 and g["traceback"][0]["function"] == "released"],
     "blobs_frames": [[f["function"] for f in s["frames"] if f["module"] is None and f["file"]]
                      for s in p["stacks"] if s["outstanding_bytes"] == 50000050]}
for tag, v in wl["tracemalloc"].items():	# tracemalloc's own view, from the workload's report
    q["tm_" + tag] = v["large"]
# With the native stack unwound (CFI), each eval-loop frame gave its place to the Python frames
# it ran: the C frames around the bytearrays' Python frames, and whether an eval-loop frame is
# left in the stacks of the bytearrays, the threads' bytearrays and the GIL-released mallocs.
for name, size in (("around_blobs", 50000050), ("around_thread", 60000030), ("around_nogil", 16666665)):
    st = [s for s in p["stacks"] if s["outstanding_bytes"] == size]
    if not st:	# say how it was split, for the failure's record
        q[name] = "no stack of %d B" % size
        for s in p["stacks"]:
            if s["outstanding_bytes"] >= 2000000 and any(f["function"] in ("worker", "released") for f in s["frames"]):
                sys.stdout.write("# %s: %d B in %d allocations: %s\n" % (name, s["outstanding_bytes"],
                                 s["outstanding_allocations"],
                                 " ".join("%s:%s" % (f["function"] or f["address"], f["line"]) for f in s["frames"])))
        continue
    fn = [f["function"] or "?" for f in st[0]["frames"]]
    py = [i for i, f in enumerate(st[0]["frames"]) if f["module"] is None and f["file"]]
    q[name] = (fn[py[0] - 1:py[-1] + 2] if size == 50000050 else "", "_PyEval_EvalFrameDefault" in fn)
with open(sys.argv[2] + "/q", "w") as f:
    for name, v in q.items():
        f.write("%s\t%s\n" % (name, " ".join(map(str, v)) if isinstance(v, tuple) else v))
PY
python3 "$TMP/query.py" "$TMP/r.json" "$TMP" "$ROOT/tests/lib" 2>>"$TMP/err"
sed 's/^/# /' "$TMP/lines"
q() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$TMP/q"; }

is "$(q python)" "3.11. mixed None" "CPython 3.11 detected, frames mixed, none unavailable"
is "$(q lost)" "0 0" "no Python stack cut, no event lost"

heap() { awk -v t="$1" '$1 == t { print $2 }' "$TMP/lines"; }
tm() { q "tm_$1"; }	# tracemalloc's bytes in blocks over 512 B at that line
within() {	# got want desc: want <= got <= want + max(1%, 4096)
	local got=$1 want=$2; shift 2
	[ "$got" -ge "$want" ] && [ "$got" -le $((want + (want / 100 > 4096 ? want / 100 : 4096))) ]
	ok $? "$* (memtrace $got, expected $want)"
}

within "$(heap blobs)" 50000050 "50 x bytearray(1_000_000) at the list comprehension's line"
within "$(heap thread)" 60000030 "3 threads x 10 x bytearray(2_000_000) at the worker's line"
within "$(heap nogil)" 16666665 "5 x malloc(3_333_333) by ctypes, GIL released, at the thread's line"
[ "$(heap spin)" -lt 3333333 ]; ok $? "none of them charged to the GIL holder's line (spin: $(heap spin) B)"
for tag in blobs thread dict; do
	within "$(heap $tag)" "$(tm $tag)" "line '$tag' agrees with tracemalloc's blocks over 512 B"
done
[ "$(tm dict)" -gt 65536 ]; ok $? "the dict's table is large enough to be a real check ($(tm dict) B)"
# pymalloc serves the 'small' line's 20,000 objects of 133 B (2.5 MiB) from 1 MiB arenas, which
# memtrace sees as mmap at that line (python_malloc.sh sees each object as a heap block).
mmap_at() { awk -v t="$1" '$1 == t { print $3 }' "$TMP/lines"; }
[ "$(mmap_at small)" -ge $((2 << 20)) ]; ok $? "pymalloc: the small objects' arenas are mmap at their line ($(mmap_at small) B)"

# The traceback of the GIL-released allocation is the thread's own Python stack.
is "$(q released)" \
	"[['released', 'Thread.run', 'Thread._bootstrap_inner', 'Thread._bootstrap']]" "its traceback is the thread's"

# Mixed frames: the Python frames stand in the native stack of the blocks they allocated.
is "$(q blobs_frames)" \
	"[['blobs.<locals>.<listcomp>', 'blobs', 'main', '<module>']]" "the bytearrays' stack names the Python frames, innermost first"

# With the native stack unwound (CFI), each eval-loop frame gave its place to the Python frames
# it ran: none is left, and the interpreter's C frames stand on both sides of them.
is "$(q around_blobs)" \
	"['_PyObject_MakeTpCall', 'blobs.<locals>.<listcomp>', 'blobs', 'main', '<module>', 'PyEval_EvalCode'] False" \
	"mixed: the Python frames stand where _PyEval_EvalFrameDefault stood, between the C frames"
is "$(q around_thread) $(q around_nogil)" " False  False" "no eval-loop frame left in the threads' stacks either"

# The text report: the Python view grouped by function, and the visible kinds of allocation.
grep -q "^top functions by outstanding bytes (heap and mmap), the average heap block, and the heap each held at the peak:" "$TMP/report.txt"; ok $? "text report groups by function"
grep -Eq "^ +57\.[0-9] MiB .*py_lines.py worker$" "$TMP/report.txt"; ok $? "worker holds 57.2 MiB in the text report"
grep -q "^Python frames: mixed; seen: pymalloc: objects over 512 bytes" "$TMP/report.txt"
ok $? "the report says which allocations this interpreter lets memtrace see"

# A program's first lines: until memtrace has read the new program's first allocation it does
# not know the program runs CPython, and the probes walk no Python frames. A line run 50 ms after
# the start must be at its line all the same, started directly and through a shim's exec.
EARLY=$ROOT/tests/workloads/py_early.py
early_line=$(grep -n 'L:early' "$EARLY" | cut -d: -f1)
printf '#!/bin/bash\nexec %s "$@"\n' "$PY" >"$TMP/shim"
chmod +x "$TMP/shim"
for how in direct shim; do
	cmd=("$PY" "$EARLY")
	[ "$how" = shim ] && cmd=("$TMP/shim" "$EARLY")
	"$MEMTRACE" --no-live --json "$TMP/early-$how.json" -o /dev/null -- "${cmd[@]}" >/dev/null 2>"$TMP/err"
	is "$(jpy "[(g['line'], g['allocated_bytes']) for g in d['processes'][0]['python']['groups']['line'] \
		if (g['file'] or '').endswith('py_early.py') and g['allocated_bytes'] >= 3000000]" "$TMP/early-$how.json")" \
		"[($early_line, 3000001)]" "$how: a line run 50 ms after the start has its block (3,000,001 B) at its line"
done
done_testing
