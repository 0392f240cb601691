#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `memtrace -p PID` on a process started with libmemtrace-sample.so preloaded: memtrace finds the
# library in its mappings and probes its hooks, not glibc's malloc; the report says it is sampled.
source "$(dirname "$0")/../lib/tap.sh"
need_root

LIB=$OUT/libmemtrace-sample.so
go=$TMP/go
LD_PRELOAD=$LIB MEMTRACE_SAMPLE_BYTES=1 "$WL/waiter" "$go" >"$TMP/wout" &
pid=$!
for _ in $(seq 100); do [ -s "$TMP/wout" ] && break; sleep 0.05; done
"$MEMTRACE" -v -p "$pid" --json "$TMP/r.json" -o "$TMP/r.txt" 2>"$TMP/err" &
mt=$!
wait_tracing "$TMP/err"
grep -q "tracing pid $pid (waiter) sampled, one block per 1 B" "$TMP/err"; ok $? "announces the pid as sampled, with its mean"
release_and_wait "$go" "$mt" "$pid"
is "$?" 0 "memtrace ends when the sampled process exits"
grep -q "libmemtrace-sample.so+0x[0-9a-f]* (memtrace_sample_alloc, sampling hook) for pid $pid" "$TMP/err"
ok $? "-v: attached to the library's allocation hook"
grep -q "(memtrace_sample_free, sampling hook) for pid $pid" "$TMP/err"; ok $? "-v: and to its free hook"
n=$(grep -c "libc.so.6+0x[0-9a-f]* (malloc) for pid $pid" "$TMP/err")
grep -q "(memtrace_sample_alloc, sampling hook) for pid $pid" "$TMP/err" && [ "$n" = 0 ]
ok $? "-v: not to glibc's malloc ($n attachments to it, in a log of the attachments)"
is "$(python3 tests/lib/site.py "$TMP/r.json")" "after_attach 21000 7" "every block sampled (mean 1 B): after_attach's 21000 B in 7"
is "$(jpy "d['summary']['unknown_frees']" "$TMP/r.json")" 3 "frees of sampled blocks from before the attach: unknown, as when traced"
is "$(jpy "d['processes'][0]['sampled'], d['processes'][0]['sample_bytes']" "$TMP/r.json")" "True 1" "JSON: sampled, at the mean in its environment"
grep -q '^sampled: ' "$TMP/r.txt"; ok $? "text report: sampled"

# Without MEMTRACE_SAMPLE_BYTES the library samples at 512 KiB, and memtrace reports that mean.
rm -f "$go"
LD_PRELOAD=$LIB "$WL/waiter" "$go" >"$TMP/wout2" &
pid=$!
for _ in $(seq 100); do [ -s "$TMP/wout2" ] && break; sleep 0.05; done
"$MEMTRACE" -p "$pid" --json "$TMP/d.json" -o /dev/null 2>"$TMP/err2" &
mt=$!
wait_tracing "$TMP/err2"
release_and_wait "$go" "$mt" "$pid"
is "$(jpy "d['processes'][0]['sample_bytes']" "$TMP/d.json")" 524288 "default mean: 512 KiB"
done_testing
