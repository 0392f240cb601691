#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A real program nobody here wrote: Debian's sqlite3 on an insert/index/update/delete script.
# memtrace's allocation count and bytes must agree with valgrind's within 0.5%.
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg sqlite3 sqlite3
need_pkg valgrind valgrind

sql=tests/data/sqlite-workload.sql
valgrind --run-libc-freeres=no --log-file="$TMP/vg" sqlite3 :memory: <"$sql" >"$TMP/vg.out"
"$MEMTRACE" --json "$TMP/r.json" -o /dev/null -- sqlite3 :memory: <"$sql" >"$TMP/mt.out"
nonempty "$TMP/vg.out" "$TMP/mt.out" && cmp -s "$TMP/vg.out" "$TMP/mt.out"; ok $? "sqlite3 printed the same results under both"
read -r allocs frees bytes < <(sed -n 's/.*total heap usage: \([0-9,]*\) allocs, \([0-9,]*\) frees, \([0-9,]*\) bytes.*/\1 \2 \3/p' "$TMP/vg" | tr -d ,)
read -r inuse blocks < <(sed -n 's/.*in use at exit: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p' "$TMP/vg" | tr -d ,)

within() {	# key valgrind's desc
	local got
	got=$(jpy "d['summary']['$1']" "$TMP/r.json")
	python3 -c "import sys; g, w = $got, $2; sys.exit(0 if w and abs(g - w) <= 0.005 * w else 1)"
	ok $? "$3: memtrace $got, valgrind $2 (within 0.5%)"
}
within allocations "${allocs:-0}" "allocations"
within allocated_bytes "${bytes:-0}" "bytes allocated"
within frees "${frees:-0}" "frees"
within outstanding_bytes "${inuse:-0}" "in use at exit"
is "$(jpy "d['summary']['lost_events']" "$TMP/r.json")" 0 "no event lost"
done_testing
