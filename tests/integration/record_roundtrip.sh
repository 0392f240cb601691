#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `memtrace record` then `memtrace report` gives the very bytes the live run wrote: JSON, folded,
# pprof, flame graph; without root; without the traced binary; for -- CMD and for -p PID.
source "$(dirname "$0")/../lib/tap.sh"
need_root

# The workload runs from a copy that is deleted before the report: symbols must come from the file.
cp "$WL/leaky" "$TMP/leaky"
"$MEMTRACE" record -o "$TMP/run.mtr" --json "$TMP/live.json" --folded "$TMP/live.folded" \
	--pprof "$TMP/live.pb.gz" --flamegraph "$TMP/live.html" -- "$TMP/leaky" 3 >"$TMP/out" 2>"$TMP/err"
is "$?" 3 "record exits with the command's status"
is "$(cat "$TMP/out")" "leaky done" "the command's stdout passes through"
grep -q "^memtrace: recorded 4[0-9]* events and [0-9]* symbols in $TMP/run.mtr" "$TMP/err"; ok $? "says what it recorded"
grep -q "^memtrace: recorded" "$TMP/err" && ! grep -q "^memtrace report" "$TMP/err"; ok $? "and writes no text report of its own"
rm "$TMP/leaky"

"$MEMTRACE" report "$TMP/run.mtr" --json "$TMP/replay.json" --folded "$TMP/replay.folded" \
	--pprof "$TMP/replay.pb.gz" --flamegraph "$TMP/replay.html" -o "$TMP/replay.txt" 2>"$TMP/err"
is "$?" 0 "report exits 0"
is_empty "$(grep -v '^memtrace: warning: .* on this kernel' "$TMP/err")" "and says nothing on stderr (but what this kernel lacks)"
for f in json folded pb.gz html; do
	nonempty "$TMP/live.$f" && cmp "$TMP/live.$f" "$TMP/replay.$f"; ok $? "live and replayed $f are byte-identical"
done
is "$(python3 tests/lib/site.py "$TMP/replay.json" heap | awk '$1 == "leak_malloc" {print $2, $3}')" "10000 10" \
	"replayed: leak_malloc holds 10000 B in 10 blocks, named without the binary"
grep -q "leak_realloc (leaky.c:" "$TMP/replay.txt"; ok $? "text report from the recording names file:line"
# Page faults are recorded too: resident growth by stack (symbolized) and by file, as live.
is "$(jpy "[(r['minor_faults'] > 0, any(s['frames'] and s['frames'][0]['function'] for s in r['stacks']), any(f['path'].endswith('libc.so.6') for f in r['files'])) for r in [d['processes'][0]['resident']]][0]" "$TMP/replay.json")" \
	"(True, True, True)" "replayed page faults: counted, their stacks named, file faults under the file's path"
cp "$WL/leaky" "$TMP/leaky"
"$MEMTRACE" record -o "$TMP/nf.mtr" --no-faults --json "$TMP/nf-live.json" -- "$TMP/leaky" >/dev/null 2>&1
"$MEMTRACE" report "$TMP/nf.mtr" --json "$TMP/nf-replay.json" 2>/dev/null
nonempty "$TMP/nf-live.json" && cmp "$TMP/nf-live.json" "$TMP/nf-replay.json" && [ "$(jpy "d['processes'][0]['resident']['minor_faults']" "$TMP/nf-replay.json")" = 0 ]
ok $? "record --no-faults: no faults, live and replayed JSON byte-identical"

# Without root and without BPF: as nobody, on a world-readable copy.
chmod 755 "$TMP"
cp "$TMP/run.mtr" "$TMP/public.mtr"
chmod 644 "$TMP/public.mtr"
setpriv --reuid=65534 --regid=65534 --clear-groups "$MEMTRACE" report "$TMP/public.mtr" --json - >"$TMP/nobody.json" 2>"$TMP/err"
is "$?" 0 "report as nobody exits 0"
nonempty "$TMP/live.json" && cmp "$TMP/live.json" "$TMP/nobody.json"; ok $? "and writes the live JSON, byte for byte"

# -p PID: processes found by attaching, with frees of blocks from before the trace.
go=$TMP/go
"$WL/waiter" "$go" >"$TMP/wout" &
pid=$!
for _ in $(seq 100); do [ -s "$TMP/wout" ] && break; sleep 0.05; done
"$MEMTRACE" record -o "$TMP/pid.mtr" -p "$pid" --json "$TMP/pid-live.json" 2>"$TMP/err" &
mt=$!
wait_tracing "$TMP/err"
release_and_wait "$go" "$mt" "$pid"
is "$?" 0 "record -p ends when the process exits"
"$MEMTRACE" report "$TMP/pid.mtr" --json "$TMP/pid-replay.json" 2>/dev/null
nonempty "$TMP/pid-live.json" && cmp "$TMP/pid-live.json" "$TMP/pid-replay.json"; ok $? "-p: live and replayed JSON are byte-identical"
is "$(python3 tests/lib/site.py "$TMP/pid-replay.json")" "after_attach 21000 7" "-p: after_attach holds 21000 B in 7 blocks"
is "$(jpy "d['summary']['unknown_frees']" "$TMP/pid-replay.json")" 3 "-p: 3 frees from before the trace"

# A Python program: its frames are recorded by code id with their names, so the replay has the
# Python lines, from a copy of the script deleted before the report.
if /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	cp tests/workloads/py_lines.py "$TMP/py_lines.py"
	"$MEMTRACE" record -o "$TMP/py.mtr" --json "$TMP/py-live.json" --timeline "$TMP/py-live.svg" -- /usr/bin/python3 \
		"$TMP/py_lines.py" "$TMP/wl.json" --no-tracemalloc --small 2000 >/dev/null 2>"$TMP/err"
	is "$?" 0 "record runs a Python program to its end"
	rm "$TMP/py_lines.py"
	"$MEMTRACE" report "$TMP/py.mtr" --json "$TMP/py-replay.json" -o "$TMP/py-replay.txt" \
		--timeline "$TMP/py-replay.svg" 2>/dev/null
	nonempty "$TMP/py-live.json" && cmp "$TMP/py-live.json" "$TMP/py-replay.json"; ok $? "Python: live and replayed JSON are byte-identical"
	nonempty "$TMP/py-live.svg" && cmp "$TMP/py-live.svg" "$TMP/py-replay.svg"; ok $? "and so is the memory-over-time chart"
	is "$(jpy "len(d['processes'][0]['timeline']) >= 3 and all(x['rss_bytes'] > 0 for x in d['processes'][0]['timeline'])" "$TMP/py-replay.json")" True \
		"the replayed timeline has its RSS samples (one per 100 ms)"
	lines() {	# the replayed Python view: "tag bytes blocks" for the workload's known lines
		python3 - "$TMP/py-replay.json" "$TMP/wl.json" <<'PY'
import json, sys
d, wl = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
py = d["processes"][0].get("python") or {}
at = {(g["file"], g["line"]): g for g in py.get("groups", {}).get("line", [])}
for tag in ("blobs", "thread"):
    g = at.get((wl["file"], wl["lines"][tag]), {})
    print(tag, g.get("heap_outstanding_bytes"), g.get("outstanding_allocations"))
PY
	}
	is "$(lines)" "blobs 50000050 50
thread 60000030 30" "replayed Python lines hold their exact bytes and blocks (50 x 1 MB, 30 x 2 MB)"
	grep -q "blobs.<locals>.<listcomp> (py_lines.py:$(jpy "d['lines']['blobs']" "$TMP/wl.json"))" "$TMP/py-replay.txt"
	ok $? "the replayed text report names the Python line"
else
	skip "/usr/bin/python3 is not CPython 3.11"
fi
done_testing
