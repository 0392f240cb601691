#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `memtrace -p PID` on a running process that then exits on its own (tests/workloads/waiter.c):
# allocations before attach are unknown, frees of them are counted apart, the report is written
# when the process ends, and its stacks are still symbolized.
source "$(dirname "$0")/../lib/tap.sh"
need_root

go=$TMP/go
"$WL/waiter" "$go" >"$TMP/wout" &
pid=$!
for _ in $(seq 100); do [ -s "$TMP/wout" ] && break; sleep 0.05; done
"$MEMTRACE" -p "$pid" --json "$TMP/r.json" 2>"$TMP/err" &
mt=$!
wait_tracing "$TMP/err"
grep -q "tracing pid $pid (waiter)" "$TMP/err"; ok $? "announces the traced pid and comm"
release_and_wait "$go" "$mt" "$pid"
is "$?" 0 "memtrace ends by itself when the traced process exits, with status 0"
is "$(python3 tests/lib/site.py "$TMP/r.json")" "after_attach 21000 7" "only what was allocated after attach, by function"
is "$(jpy "d['summary']['unknown_frees']" "$TMP/r.json")" 3 "3 frees of blocks from before the trace, counted apart"
is "$(jpy "d['summary']['frees']" "$TMP/r.json")" 0 "and not counted as frees"
is "$(jpy "d['processes'][0]['exited'], d['processes'][0]['comm']" "$TMP/r.json")" "True waiter" "process marked exited"
grep -q 'after_attach (waiter.c:' "$TMP/err"; ok $? "report on stderr names after_attach with its line"

# Several pids, as a comma list: the two waiters are told apart.
rm -f "$go"
"$WL/waiter" "$go" >/dev/null & p1=$!
"$WL/waiter" "$go" >/dev/null & p2=$!
sleep 0.3
"$MEMTRACE" -p "$p1,$p2" --json "$TMP/two.json" -o /dev/null 2>"$TMP/err2" &
mt=$!
wait_tracing "$TMP/err2"
release_and_wait "$go" "$mt" "$p1" "$p2"
is "$(jpy "sorted((p['pid'], p['summary']['outstanding_bytes']) for p in d['processes'])" "$TMP/two.json")" \
	"$(python3 -c "print(sorted([($p1, 21000), ($p2, 21000)]))")" "two processes, each with its own 21000 B"
is "$(jpy "d['summary']['outstanding_bytes']" "$TMP/two.json")" 42000 "summary is over all processes"

# -d stops a trace of a process that keeps running; the process is left running, untouched.
sleep 30 & sl=$!
"$MEMTRACE" -p "$sl" -d 0.5 -o /dev/null 2>/dev/null
is "$?" 0 "-d ends the trace"
kill -0 "$sl" 2>/dev/null; ok $? "the traced process still runs after memtrace is gone"
kill "$sl"
done_testing
