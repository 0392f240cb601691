#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# PYTHONMALLOC=malloc (a restart, no code change) makes every object allocation a malloc, so
# memtrace sees each one at its line: tests/workloads/py_lines.py's 'small' line keeps 5,000
# bytes(100) objects here (--small 5000: under PYTHONMALLOC=malloc each object, and each int its
# loop counts with, is a traced malloc), each a calloc(1, 133) on CPython 3.11 (32-byte header +
# 100 + NUL), so it holds exactly 665,000 B in 5,000 blocks. Under pymalloc (python_lines.sh) the same objects
# live in arenas memtrace sees only as mmap. Also the per-line peak: 'transient' allocates
# 30 x bytearray(1_000_000) after everything else and frees them, so the process's heap peaks
# then: that line held 30,000,030 B at the peak and holds nothing at the end.
source "$(dirname "$0")/../lib/tap.sh"
need_root
PY=/usr/bin/python3
need_pkg "$PY" python3
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || skip_all "$PY is not CPython 3.11"

PYTHONMALLOC=malloc "$MEMTRACE" --no-live --json "$TMP/r.json" -o "$TMP/report.txt" -- \
	"$PY" "$ROOT/tests/workloads/py_lines.py" "$TMP/wl.json" --no-tracemalloc --small 5000 >/dev/null 2>"$TMP/err"
is "$?" 0 "memtrace traces the workload under PYTHONMALLOC=malloc"
python3 tests/lib/pylines.py "$TMP/r.json" "$TMP/wl.json" >"$TMP/lines"
sed 's/^/# /' "$TMP/lines"

is "$(awk '$1 == "complete" { print $2 }' "$TMP/lines")" True \
	"the report says every object allocation is seen (complete)"
grep -q "^Python frames: mixed; seen: .*PYTHONMALLOC=malloc" "$TMP/report.txt"
ok $? "the text report says why: PYTHONMALLOC=malloc"
is "$(awk '$1 == "small" { print $2, $4 }' "$TMP/lines")" "665000 5000" \
	"5,000 small objects at their line: exactly 665,000 B in 5,000 blocks"

# The per-line peak, from the Python groups by line. Under PYTHONMALLOC=malloc a line also holds
# its objects' headers (a bytearray is 56 B beside its buffer) and its list: up to 4 KiB more.
line() { awk -v t="$1" '$1 == t { print $2, $5 }' "$TMP/lines"; }	# heap now, at the peak
read -r tag_blobs tag_big < <(jpy "d['lines']['blobs'], d['lines']['big']" "$TMP/wl.json")	# line numbers
rm -f "$TMP/r.json"	# read once above; the rest of the checks use the lines and the text report
read -r now peak < <(line transient)
[ "$now" -eq 0 ] && [ "$peak" -ge 30000030 ] && [ "$peak" -le $((30000030 + 4096)) ]
ok $? "'transient' holds nothing now and held its 30 x 1,000,001 B at the peak (now $now, at peak $peak)"
read -r now peak < <(line blobs)
[ "$now" -eq "$peak" ] && [ "$now" -ge 50000050 ] && [ "$now" -le $((50000050 + 4096)) ]
ok $? "'blobs', kept, held the same at the peak as now ($now, $peak)"
grep -Eq "^ +47\.[0-9] MiB in +[0-9]+ blocks, avg +[0-9.]+ [KMG]?i?B +47\.[0-9] MiB heap at peak .*py_lines.py:$tag_blobs blobs" "$TMP/report.txt"
ok $? "the text report gives each line's bytes now and at the peak"

# Measure, change, measure again: the same program keeping 5 instead of 20 bytearray(100_000) at
# its 'big' line (pymalloc, the default: reports of a few MB; under PYTHONMALLOC=malloc every
# object's stack is kept and the JSON reports run to hundreds of MB). memtrace diff of the two JSON
# reports names the Python line that grew, by exactly 15 x 100,001 B in 15 blocks.
for n in 5 20; do
	"$MEMTRACE" --no-live --json "$TMP/big$n.json" -o /dev/null -- \
		"$PY" "$ROOT/tests/workloads/py_lines.py" "$TMP/wlb$n.json" --no-tracemalloc --big $n >"$TMP/big$n.out" 2>&1
done
# What each run made of its 'big' blocks (100,001 B each), said when the diff is not as known.
big_blocks() {
	jpy "[(s['outstanding_allocations'], next(((f['function'], f['line']) for f in s['frames'] if (f.get('file') or '').endswith('.py')), None)) for p in d['processes'] for s in p['stacks'] if s['outstanding_bytes'] and s['outstanding_bytes'] % 100001 == 0], {k: v for k, v in d['lost_events_by_reason'].items() if v}" "$1" | sed 's/^/# /'
	sed 's/^/# stderr: /' "${1%.json}.out"
}
"$MEMTRACE" diff "$TMP/big5.json" "$TMP/big20.json" --json "$TMP/diff.json" -o "$TMP/diff.txt"
is "$?" 0 "memtrace diff compares the two Python runs"
is "$(jpy "[(s['delta_bytes'], s['delta_blocks'], s['frames'][0]) for s in d['stacks'] if s['frames'] and 'py_lines.py:$tag_big' in s['frames'][0]]" "$TMP/diff.json")" \
	"[(1500015, 15, 'big.<locals>.<listcomp> (py_lines.py:$tag_big)')]" "the diff names the Python line that grew: +1,500,015 B in 15 blocks" ||
	{ big_blocks "$TMP/big5.json"; big_blocks "$TMP/big20.json"; }
grep -Eq "^ +\+1500015 +\+15 .*big\.<locals>\.<listcomp> \(py_lines.py:$tag_big\)" "$TMP/diff.txt"
ok $? "the text diff shows it"
done_testing
