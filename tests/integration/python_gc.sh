#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Python's cycle collector, watched from outside (tests/workloads/py_gc.py), against what CPython
# itself says in the same process:
# - N reference cycles, each holding a bytearray payload, built with the collector disabled and
#   freed by one gc.collect(): the payload's line had N x the payload's malloc size (4096 + 1:
#   bytearray keeps a NUL after its data; the workload reads it from sys.getsizeof) reclaimed by
#   the collector, in N blocks, in 1 collection, exactly; a line holding memory without cycles
#   had nothing reclaimed.
# - Collections: memtrace counts each call of gc_collect_main; CPython's gc.get_stats() counts
#   the same calls. Traced from its exec, memtrace saw every one (startup's too); attached with
#   -p, it saw those after it attached: the workload's own delta, 1.
# - Pauses: attached with -p, the one collection's pause lies within the workload's own clock
#   around gc.collect().
# - Objects per line (PYTHONMALLOC=malloc, so each object is a malloc): N instances of a class
#   with __slots__ are N blocks of sys.getsizeof(instance) bytes each, exactly; without
#   __slots__ the line's average differs, and memtrace diff names the line with both averages.
# Debian's python3.11 is stripped (the collector is found from PyGC_Collect's calls); pyenv's
# 3.11-3.13 keep gc_collect_main's symbol, and the two ways must agree on them.
source "$(dirname "$0")/../lib/tap.sh"
need_root
PY=/usr/bin/python3
need_pkg "$PY" python3
WL=$ROOT/tests/workloads/py_gc.py
N=1000

# cycles_check TAG REPORT.json WL.json COLLECTIONS: the exact checks of a cycles run.
cycles_check() {
	local tag=$1 report=$2 wl=$3 want_coll=$4
	python3 - "$report" "$wl" >"$TMP/$tag.q" 2>&1 <<'PY'
import json, sys
d, w = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
p = d["processes"][0]
lines = {(g["file"] or "").endswith("py_gc.py") and g["line"]: g for g in p["python"]["groups"]["line"]}
pay, acy = lines.get(w["lines"]["payload"]), lines.get(w["lines"]["acyclic"])
print("payload", pay["gc_reclaimed_bytes"], pay["gc_reclaimed_blocks"], pay["gc_collections"])
print("want_payload", w["n"] * w["payload_malloc"], w["n"], 1)
print("acyclic", acy["gc_reclaimed_bytes"], acy["heap_outstanding_bytes"] >= w["n"] // 10 * w["payload_malloc"])
gc = p["gc"]
print("collections", gc["collections"], w["collections_at_end"], w["collections_at_end"] - w["collections_at_start"])
print("pause", 0 < gc["longest_pause_ns"] <= w["collect_wall_ns"], gc["longest_pause_ns"] <= gc["pause_ns"],
      gc["longest_pause_ns"], w["collect_wall_ns"])
print("summary", d["gc_summary"] == gc)
print("stack", sum(s["gc_reclaimed_bytes"] == w["n"] * w["payload_malloc"] for s in p["stacks"]))
print("version", w["version"])
print("lost", json.dumps(d["lost_events_by_reason"]))
print("acyclic_held", acy["heap_outstanding_bytes"], acy["heap_outstanding_blocks"])
for g in sorted(p["python"]["groups"]["line"], key=lambda g: -g["outstanding_bytes"])[:4]:
    print("top", g["file"], g["line"], g["outstanding_bytes"], g["outstanding_allocations"])
PY
	local q; q() { awk -v k="$1" '$1 == k { $1 = ""; print substr($0, 2) }' "$TMP/$tag.q"; }
	if [ -z "$(q payload)" ]; then
		ok 1 "$tag: the report has the payload's line"
		sed 's/^/# /' "$TMP/$tag.q"
		return
	fi
	is "$(q payload)" "$(q want_payload)" \
		"$tag: the payload's line: N x its malloc size reclaimed by the collector, in N blocks, in 1 collection ($(q payload))"
	is "$(q acyclic)" "0 True" "$tag: the line without cycles holds its memory, none reclaimed" ||
		sed 's/^/# /' "$TMP/$tag.q"
	is "$(q collections | awk '{ print $1 }')" "$want_coll" "$tag: collections seen = CPython's gc.get_stats() ($(q collections))"
	# With one collection seen, it is gc.collect()'s: its pause lies within the workload's clock
	# around that call. With more, only that the longest is one of them.
	if [ "$want_coll" = 1 ]; then
		is "$(q pause | cut -d' ' -f1-2)" "True True" "$tag: the pause lies within the workload's clock around gc.collect() ($(q pause | cut -d' ' -f3-4) ns)"
	else
		is "$(q pause | cut -d' ' -f2)" "True" "$tag: the longest pause is no longer than all of them"
	fi
	is "$(q summary)" "True" "$tag: gc_summary sums the one process"
	is "$(q stack)" "1" "$tag: one stack carries all the payloads' reclaimed bytes"
}

# 1. Debian's python3 traced from its start: every collection, the stripped build's collector.
"$MEMTRACE" --no-live --json "$TMP/deb.json" -o "$TMP/deb.txt" --folded "$TMP/deb.folded" \
	--folded-value gc -- "$PY" "$WL" "$TMP/wl-deb.json" cycles "$N" >/dev/null 2>"$TMP/err"
is "$?" 0 "memtrace traces the cycles workload under $PY" || sed 's/^/# /' "$TMP/err"
cycles_check debian "$TMP/deb.json" "$TMP/wl-deb.json" "$(jpy 'd["collections_at_end"]' "$TMP/wl-deb.json")"
grep -q '^cycle collector: [0-9]* collections, .* of pauses (longest .*); freed ' "$TMP/deb.txt"
ok $? "text report: the collector's collections, pauses and what it freed"
grep -A1 '^top lines by what the cycle collector had to free' "$TMP/deb.txt" | tail -1 |
	grep -Eq "in +$N blocks, in +1 collection +.*py_gc.py:$(jpy 'd["lines"]["payload"]' "$TMP/wl-deb.json") cycles$"
ok $? "text report: the payload's line first among what the collector freed"
# Folded by what the collector freed: every line's value is reclaimed bytes; they sum to the
# process's, and the payload's stack (ending in the function cycles) has N x payload.
is "$(awk '{ s += $NF } END { print s }' "$TMP/deb.folded")" "$(jpy 'd["gc_summary"]["reclaimed_bytes"]' "$TMP/deb.json")" \
	"--folded-value gc: the lines sum to the bytes reclaimed"
is "$(awk '$1 ~ /;cycles(;|$)/ { s += $NF } END { print s }' "$TMP/deb.folded")" \
	"$((N * $(jpy 'd["payload_malloc"]' "$TMP/wl-deb.json")))" "--folded-value gc: the payload's stacks hold N x payload"

# A recording keeps the collector's events: its report says the same.
"$MEMTRACE" record -o "$TMP/deb.mtr" --no-live -- "$PY" "$WL" "$TMP/wl-rec.json" cycles "$N" >/dev/null 2>"$TMP/err-rec"
is "$?" 0 "memtrace record traces the cycles workload" || sed 's/^/# /' "$TMP/err-rec"
"$MEMTRACE" report --json "$TMP/rec.json" -o /dev/null "$TMP/deb.mtr"
cycles_check recording "$TMP/rec.json" "$TMP/wl-rec.json" "$(jpy 'd["collections_at_end"]' "$TMP/wl-rec.json")"

# 2. -p on a running interpreter: the collections after attaching are the workload's delta.
"$PY" "$WL" "$TMP/wl-pid.json" cycles "$N" --go "$TMP/go" >"$TMP/pid" &
wl=$!
for _ in $(seq 100); do [ -s "$TMP/pid" ] && break; sleep 0.05; done
"$MEMTRACE" --no-live --json "$TMP/pid.json" -o /dev/null -p "$wl" 2>"$TMP/err-pid" &
mt=$!
wait_tracing "$TMP/err-pid"; ok $? "memtrace -p attaches to the waiting interpreter"
release_and_wait "$TMP/go" "$mt" "$wl"
is "$?" 0 "memtrace -p ends when the interpreter does"
cycles_check pid "$TMP/pid.json" "$TMP/wl-pid.json" 1

# The kernel matrix (scripts/vmtest) checks the collector's probes on Debian's python3 above;
# the interpreters' differences and the objects per line are the host's to check.
if [ -n "${VMTEST_MODROOT:-}" ]; then
	skip "in the kernel matrix's guest: pyenv's interpreters and objects per line are checked on the host"
	done_testing
fi

# 3. pyenv's interpreters (shared libpython, symbols): each version's collector.
n=0
for py in "$PYENV_DIR"/versions/3.1[123]*/bin/python3.1[123]; do
	[ -x "$py" ] || continue
	n=$((n + 1)); v=$(basename "$py")
	lib=$(ls "$(dirname "$py")"/../lib/libpython3.1?.so.1.0 2>/dev/null | head -1)
	if [ -n "$lib" ]; then
		r=$("$ROOT/build/tools/pygc_find" "$lib")
		is "$(awk '{ print ($2 == $4 && $2 != "0x0") }' <<<"$r")" 1 "$v: the collector found by PyGC_Collect's calls is the symbol's ($r)"
	fi
	"$MEMTRACE" --no-live --json "$TMP/$v.json" -o /dev/null -- "$py" "$WL" "$TMP/wl-$v.json" cycles "$N" >/dev/null 2>"$TMP/err-$v"
	is "$?" 0 "memtrace traces the cycles workload under $v" || sed 's/^/# /' "$TMP/err-$v"
	cycles_check "$v" "$TMP/$v.json" "$TMP/wl-$v.json" "$(jpy 'd["collections_at_end"]' "$TMP/wl-$v.json")"
done
[ "$n" -gt 0 ] || skip "no pyenv interpreter of 3.11-3.13 under $PYENV_DIR"

# 4. Objects per line: N instances with and without __slots__, every object a malloc. Python
# frames only: every object of the interpreter's start-up is a malloc too, and their native stacks
# would make a JSON of half a GB that the checks and the diff then read.
NOBJ=10000
for mode in plain slots; do
	PYTHONMALLOC=malloc "$MEMTRACE" --no-live --python-frames only --json "$TMP/$mode.json" -o "$TMP/$mode.txt" -- \
		"$PY" "$WL" "$TMP/wl-$mode.json" "$mode" "$NOBJ" >/dev/null 2>"$TMP/err-$mode"
	is "$?" 0 "memtrace traces $NOBJ $mode instances" || sed 's/^/# /' "$TMP/err-$mode"
done
objline() {	# mode: blocks and average at the objects' line
	python3 - "$TMP/$1.json" "$TMP/wl-$1.json" <<'PY'
import json, sys
d, w = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
g = [g for g in d["processes"][0]["python"]["groups"]["line"]
     if (g["file"] or "").endswith("py_gc.py") and g["line"] == w["lines"]["objects"]]
print(g[0]["heap_outstanding_blocks"], g[0]["average_block_bytes"], g[0]["heap_outstanding_bytes"] if g else "none")
PY
}
read -r sb sa sbytes <<<"$(objline slots)"
read -r pb pa pbytes <<<"$(objline plain)"
is "$sb $sa" "$NOBJ $(jpy 'd["instance_size"]' "$TMP/wl-slots.json")" \
	"__slots__: $NOBJ blocks of sys.getsizeof(instance) bytes at the line"
[ -n "$pa" ] && [ "$pa" != "$sa" ] && [ "$pbytes" -gt "$sbytes" ]
ok $? "without __slots__ the line's average differs ($pa B in $pb blocks vs $sa B in $sb) and it holds more ($pbytes B vs $sbytes B)"
grep -Eq "avg +[0-9.]+ [KM]?i?B .*py_gc.py:$(jpy 'd["lines"]["objects"]' "$TMP/wl-slots.json") instances$" "$TMP/slots.txt"
ok $? "text report: the line's average object"
"$MEMTRACE" diff --json "$TMP/diff.json" -o "$TMP/diff.txt" "$TMP/plain.json" "$TMP/slots.json"
is "$?" 0 "memtrace diff compares the two runs"
is "$(jpy '[(l["before_blocks"], l["after_blocks"], l["before_average"], l["after_average"]) for l in d["python_lines"] if l["line"].startswith("instances (py_gc.py:")]' "$TMP/diff.json")" \
	"[($pb, $sb, $pa, $sa)]" "diff JSON: the line, with its count and average before and after"
grep -q "^Python lines: heap objects (count, average size) and the cycle garbage they made" "$TMP/diff.txt" &&
	grep -Eq " $pb +$sb .* instances \(py_gc.py:[0-9]+\)$" "$TMP/diff.txt"
ok $? "diff text: the line with its count before and after"
done_testing
