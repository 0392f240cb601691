#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# --probe-sites: by default free's entry probe moves past its single-stepped first instruction
# (glibc 2.36: `test %rdi,%rdi`) to an emulated one, and what memtrace counts does not change:
# the same bytes and blocks per call site, the same frees, nothing unmatched, nothing lost.
source "$(dirname "$0")/../lib/tap.sh"
need_root

run() {	# sites name
	"$MEMTRACE" -v --probe-sites "$1" --json "$TMP/$2.json" -o "$TMP/$2.txt" -- "$WL/leaky" 3 \
		>/dev/null 2>"$TMP/$2.err"
	is "$?" 3 "--probe-sites $1: the command's exit status"
	python3 tests/lib/site.py "$TMP/$2.json" heap >"$TMP/$2.sites"
	python3 tests/lib/site.py "$TMP/$2.json" mmap >>"$TMP/$2.sites"
}
run auto auto
run entry entry

free_line=$(grep -m1 'debug: free: probing' "$TMP/auto.err")
echo "# $free_line"
case "$free_line" in
*"probing +0 ("*", emulated)"*|*"probing +0 ("*", optimized)"*)
	skip "free's first instruction is already cheap here, auto has nothing to move ($free_line)" ;;
*)
	grep -Eq 'debug: free: probing \+[1-9][0-9]* \([a-z]+, (emulated|optimized)\) instead of \+0 \([a-z]+, single-stepped\)' "$TMP/auto.err"
	ok $? "auto: free probed past its single-stepped first instruction" ;;
esac
grep -Eq 'debug: free: probing \+0 \(.*--probe-sites entry|debug: free: probing \+0 \([a-z]+, (emulated|optimized)\)$' "$TMP/entry.err"
ok $? "entry: free probed at +0"
grep -q 'debug: attached .*(malloc)' "$TMP/auto.err"; ok $? "auto: every table entry still attached"

[ -s "$TMP/auto.sites" ]; ok $? "call sites found"
{ nonempty "$TMP/entry.sites" && diff -u "$TMP/entry.sites" "$TMP/auto.sites"; } >"$TMP/sites.diff"
ok $? "identical bytes and blocks per call site under entry and auto"
sed 's/^/# /' "$TMP/sites.diff" | head -20
for k in allocations frees outstanding_bytes outstanding_allocations unknown_frees lost_events; do
	is "$(jpy "d['summary']['$k']" "$TMP/auto.json")" "$(jpy "d['summary']['$k']" "$TMP/entry.json")" \
		"summary $k equal under auto and entry"
done
is "$(jpy "d['summary']['frees']" "$TMP/auto.json")" 20005 "auto counts leaky's 20005 frees exactly"
is "$(jpy "d['summary']['unknown_frees']" "$TMP/auto.json")" 0 "auto: every free matched"
is "$(jpy "d['summary']['lost_events']" "$TMP/auto.json")" 0 "auto: no event lost"
is "$(jpy "d['mmap_summary']['allocations'], d['mmap_summary']['frees']" "$TMP/auto.json")" "2 1" \
	"auto: mmap's moved probe still sees 2 maps, 1 unmap"

"$MEMTRACE" --probe-sites middle -- /bin/true >/dev/null 2>"$TMP/bad.err"
is "$?" 2 "an unknown --probe-sites mode is a usage error"
done_testing
