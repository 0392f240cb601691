#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# kill -9 of memtrace record mid-trace: the file reads up to its last block (flushed at least
# once a second), with a warning; symbols come from the local binaries, whose build ids match.
# A file cut in the middle of a block reads up to the block before, and says where it was cut.
source "$(dirname "$0")/../lib/tap.sh"
need_root

"$MEMTRACE" record -o "$TMP/k.mtr" -- "$WL/grower" 7 hold >"$TMP/out" 2>"$TMP/err" &
mt=$!
for _ in $(seq 200); do [ -s "$TMP/out" ] && break; sleep 0.05; done
is "$(cat "$TMP/out")" "holding" "grower leaked its 7 blocks and holds"
sleep 2.5	# more than one flush interval: the events are in a block on disk
child=$(pgrep -P "$mt")
kill -9 "$mt"
wait "$mt" 2>/dev/null
[ -n "$child" ] && kill -9 "$child"

"$MEMTRACE" report "$TMP/k.mtr" --json "$TMP/k.json" -o "$TMP/k.txt" 2>"$TMP/err"
is "$?" 0 "the killed recording reports, exit 0"
grep -q "warning: recording $TMP/k.mtr has no end record (was memtrace killed?): read [0-9]* bytes ([0-9]* events)" "$TMP/err"
ok $? "with a warning naming the file and how much was read"
is "$(python3 tests/lib/site.py "$TMP/k.json" | awk '$1 == "leak_site" || $1 == "steady_site"')" \
	"leak_site 7000 7
steady_site 1500 3" "leak_site 7 x 1000 B and steady_site 3 x 500 B, named from the local binary"
is "$(jpy "d['processes'][0]['comm']" "$TMP/k.json")" grower "the process as recorded at start"

# Cut inside the last block: the blocks before it still read.
size=$(stat -c %s "$TMP/k.mtr")
head -c $((size - 3)) "$TMP/k.mtr" >"$TMP/cut.mtr"
"$MEMTRACE" report "$TMP/cut.mtr" --json "$TMP/cut.json" -o /dev/null 2>"$TMP/err"
is "$?" 0 "a file cut mid-block reports, exit 0"
grep -q "warning: recording $TMP/cut.mtr is cut short at offset [0-9]*: read its first [0-9]* bytes" "$TMP/err"
ok $? "and says at which offset it was cut"
done_testing
