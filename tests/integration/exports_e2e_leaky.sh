#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# End to end: `memtrace --pprof --folded --flamegraph -- leaky` (tests/workloads/leaky.c, whose
# numbers core_leaky.sh also checks), the profile read by `go tool pprof`, the page by chromium.
source "$(dirname "$0")/../lib/exports.sh"
need_root
need go golang-go
need chromium chromium
export PPROF_TMPDIR=$TMP HOME=${HOME:-$TMP}

"$MEMTRACE" --pprof "$TMP/p.pb.gz" --folded "$TMP/out.folded" --flamegraph "$TMP/fg.html" \
	--json "$TMP/r.json" -o "$TMP/report.txt" -- "$WL/leaky" >/dev/null 2>"$TMP/stderr"
is "$?" 0 "memtrace with every export exits 0"
is_empty "$(grep -v '^memtrace: warning: .* on this kernel' "$TMP/stderr")" "and says nothing on stderr (but what this kernel lacks)"

top() {		# top INDEX ARGS...: go tool pprof's -top table, bytes unscaled
	local index=$1
	shift
	case $index in *_objects) ;; *) set -- -unit=B "$@" ;; esac
	go tool pprof -top -nodefraction=0 -sample_index="$index" "$@" "$TMP/p.pb.gz" 2>&1
}

flat_is() {	# flat_is INDEX FUNCTION VALUE [FILTER...]
	local index=$1 fn=$2 want=$3 out
	shift 3
	out=$(top "$index" "$@")
	echo "$out"
	awk -v fn="$fn" -v want="$want" '$NF == fn && $1 == want { found = 1 } END { exit !found }' <<<"$out"
}

check "pprof: leak_malloc holds exactly 10000B (10 x 1000)" flat_is inuse_space leak_malloc 10000B
check "pprof: leak_calloc holds exactly 8400B" flat_is inuse_space leak_calloc 8400B
check "pprof: leak_realloc holds exactly 20000B" flat_is inuse_space leak_realloc 20000B
check "pprof: leak_malloc holds 10 blocks" flat_is inuse_objects leak_malloc 10
check "pprof: leak_malloc made 10 allocations" flat_is alloc_objects leak_malloc 10
check "pprof: churn made 20003 allocations" flat_is alloc_objects churn 20003
check "pprof: churn holds nothing" grep -q "Showing nodes accounting for 0, 0% of" <(top inuse_space -focus=churn)
check "pprof: the mmap leak is labelled kind=mmap (12288B)" \
	flat_is inuse_space leak_mmap 12288B -tagfocus=kind=mmap
total=$(jpy "d['summary']['outstanding_bytes'] + d['mmap_summary']['outstanding_bytes']" "$TMP/r.json")
check "pprof: inuse total is the JSON report's outstanding heap + mmap (${total}B)" \
	grep -q "Total samples = ${total}B" <(top inuse_space)
# CFI unwinding (the default) goes on below __libc_start_call_main, to _start.
check "folded: leak_malloc's line is 10000" \
	grep -qxE 'leaky;(_start;__libc_start_main[^;]*;)?__libc_start_call_main;main;leak_malloc 10000' "$TMP/out.folded"
is "$(awk '{ s += $NF } END { print s }' "$TMP/out.folded")" "$total" "folded: lines add up to $total"

"$MEMTRACE" --folded "$TMP/blocks.folded" --folded-value blocks -o /dev/null -- "$WL/leaky" >/dev/null
check "--folded-value blocks: leak_malloc's line is 10" \
	grep -qxE 'leaky;(_start;__libc_start_main[^;]*;)?__libc_start_call_main;main;leak_malloc 10' "$TMP/blocks.folded"
"$MEMTRACE" --folded-value bytes -- true >/dev/null 2>"$TMP/stderr"
is "$?" 2 "--folded-value with an unknown value is a usage error"
check "and says which values exist" grep -q "unknown folded value 'bytes' -- outstanding, allocated, blocks or gc" "$TMP/stderr"

headless --window-size=1200,400 --dump-dom "file://$TMP/fg.html" >"$TMP/dom.html"
check "flame graph: leak_malloc's frame carries its 10000 bytes and 10 blocks" \
	grep -q 'data-name="leak_malloc" data-bytes="10000" data-blocks="10"' "$TMP/dom.html"
done_testing
