#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# memtrace diff on two runs of tests/workloads/grower.c that differ only by 3 leaks at leak_site:
# exactly +3000 B in +3 blocks there and nowhere else, from recordings, JSON reports or a mix;
# new and vanished stacks; --fail-if-grows exit statuses; the differential folded stacks.
source "$(dirname "$0")/../lib/tap.sh"
need_root

for n in 0 2 5; do
	"$MEMTRACE" record -o "$TMP/g$n.mtr" --json "$TMP/g$n.json" -- "$WL/grower" $n 2>/dev/null
done
line() { grep -n -m1 -- "$1" tests/workloads/grower.c | cut -d: -f1; }
site="leak_site (grower.c:$(line 'malloc(1000)'))"

"$MEMTRACE" diff "$TMP/g2.mtr" "$TMP/g5.mtr" --json "$TMP/d.json" >"$TMP/d.txt"
is "$?" 0 "diff exits 0"
is "$(jpy "d['summary']['delta_bytes'], d['summary']['delta_blocks']" "$TMP/d.json")" "3000 3" "total: +3000 B in +3 blocks"
is "$(jpy "len(d['stacks'])" "$TMP/d.json")" 1 "exactly one stack changed"
is "$(jpy "[(s['status'], s['kind'], s['delta_bytes'], s['delta_blocks'], s['before_bytes'], s['after_bytes']) for s in d['stacks']]" "$TMP/d.json")" \
	"[('grew', 'heap', 3000, 3, 2000, 5000)]" "it grew by 3000 B, 3 blocks: 2000 -> 5000"
is "$(jpy "d['stacks'][0]['frames'][:2]" "$TMP/d.json")" "['$site', 'main (grower.c:$(line 'leak_site();'))']" \
	"at leak_site, called from main, named with file:line"
unchanged=$(jpy "d['summary']['unchanged']" "$TMP/d.json")
is "$unchanged" 2 "steady_site and churn unchanged"
if [ "$unchanged" != 2 ]; then	# which stacks, then: the folded stacks of both runs
	for n in 2 5; do
		"$MEMTRACE" report "$TMP/g$n.mtr" -o /dev/null --folded /dev/stdout | sed "s/^/# g$n: /"
	done
fi
grep -q "^ *+3000 *+3 *2000 *5000  grew     $site < main" "$TMP/d.txt"; ok $? "text table: the row of deltas"
grep -q "^stacks: 1 grew, 0 shrank, 0 new, 0 vanished, 2 unchanged" "$TMP/d.txt"; ok $? "text table: counts"

"$MEMTRACE" diff "$TMP/g2.json" "$TMP/g5.json" --json "$TMP/dj.json" >/dev/null
is "$(jpy "[(s['frames'][0], s['delta_bytes'], s['delta_blocks']) for s in d['stacks']]" "$TMP/dj.json")" \
	"[('$site', 3000, 3)]" "from JSON reports: the same delta"
"$MEMTRACE" diff "$TMP/g2.json" "$TMP/g5.mtr" --json "$TMP/dm.json" >/dev/null
is "$(jpy "[(s['frames'][0], s['delta_bytes']) for s in d['stacks']]" "$TMP/dm.json")" "[('$site', 3000)]" "a JSON report against a recording: the same"

"$MEMTRACE" diff "$TMP/g5.mtr" "$TMP/g2.mtr" --json "$TMP/rev.json" >/dev/null
is "$(jpy "[(s['status'], s['delta_bytes'], s['delta_blocks']) for s in d['stacks']]" "$TMP/rev.json")" \
	"[('shrank', -3000, -3)]" "the other way round: shrank by 3000 B"
"$MEMTRACE" diff "$TMP/g0.mtr" "$TMP/g2.mtr" --json "$TMP/new.json" >/dev/null
is "$(jpy "[(s['status'], s['frames'][0], s['before_blocks'], s['after_blocks']) for s in d['stacks']]" "$TMP/new.json")" \
	"[('new', '$site', 0, 2)]" "0 leaks -> 2: leak_site is new"
"$MEMTRACE" diff "$TMP/g2.mtr" "$TMP/g0.mtr" --json "$TMP/gone.json" >/dev/null
is "$(jpy "[(s['status'], s['delta_bytes']) for s in d['stacks']]" "$TMP/gone.json")" "[('vanished', -2000)]" "2 leaks -> 0: leak_site vanished"

"$MEMTRACE" diff "$TMP/g2.mtr" "$TMP/g5.mtr" --fail-if-grows 2999 >/dev/null 2>"$TMP/err"
is "$?" 6 "--fail-if-grows 2999 on +3000 B: exit 6"
grep -q "grew by 3000 B, more than the 2999 B allowed by --fail-if-grows" "$TMP/err"; ok $? "and says by how much"
"$MEMTRACE" diff "$TMP/g2.mtr" "$TMP/g5.mtr" --fail-if-grows 3000 >/dev/null 2>&1
is "$?" 0 "--fail-if-grows 3000 on +3000 B: exit 0"
"$MEMTRACE" diff "$TMP/g5.mtr" "$TMP/g2.mtr" --fail-if-grows 0 >/dev/null 2>&1
is "$?" 0 "--fail-if-grows 0 when memory shrank: exit 0"

"$MEMTRACE" diff "$TMP/g2.mtr" "$TMP/g5.mtr" --folded "$TMP/d.folded" --flamegraph "$TMP/d.html" >/dev/null
grep -qx "\(.*;\)\?main (grower.c:$(line 'leak_site();'));$site 2000 5000" "$TMP/d.folded"
ok $? "folded: 'stack BEFORE AFTER' for leak_site, 2000 5000"
is "$(awk '{ a += $(NF-1); b += $NF } END { print a, b }' "$TMP/d.folded")" \
	"$(jpy "d['summary']['before_bytes'], d['summary']['after_bytes']" "$TMP/d.json")" \
	"folded: columns add up to the totals before and after"
grep -q '"stacks":\[\[3000,3,5000,' "$TMP/d.html"; ok $? "flame graph: growth 3000 B in 3 blocks is the only wide stack"

# The Python workflow: record, change, record again, compare. Two runs of py_lines.py that differ
# only in how many small objects L:small keeps (PYTHONMALLOC=malloc: each is one malloc of
# 133 B): the diff of the recordings finds exactly +2000 blocks, +266000 B, at that Python line.
if /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	for n in 1000 3000; do
		PYTHONMALLOC=malloc "$MEMTRACE" record -o "$TMP/py$n.mtr" -- /usr/bin/python3 \
			tests/workloads/py_lines.py "$TMP/wl.json" --no-tracemalloc --small $n >/dev/null 2>&1
	done
	"$MEMTRACE" diff "$TMP/py1000.mtr" "$TMP/py3000.mtr" --json "$TMP/pyd.json" >/dev/null
	small="small (py_lines.py:$(jpy "d['lines']['small']" "$TMP/wl.json"))"
	is "$(jpy "[(s['status'], s['delta_bytes'], s['delta_blocks'], s['frames'][1]) for s in d['stacks'] if s['frames'][0] == '$small']" "$TMP/pyd.json")" \
		"[('grew', 266000, 2000, 'main (py_lines.py:$(grep -n -m1 'keep.append(small(n_small))' tests/workloads/py_lines.py | cut -d: -f1))')]" \
		"Python recordings diffed: +266000 B in +2000 blocks at L:small, called from main"
else
	skip "/usr/bin/python3 is not CPython 3.11"
fi
done_testing
