#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# libmemtrace-sample.so alone, with no memtrace attached: programs behave exactly as without it
# (same output, same exit status), at the default mean and when every block is sampled (the
# in-process set of sampled blocks then holds all of them), threads and fork included.
source "$(dirname "$0")/../lib/tap.sh"

LIB=$OUT/libmemtrace-sample.so
[ -r "$LIB" ] || bail "$LIB is built (run make)"
same() {	# description, command...: stdout and status with and without the library
	local desc=$1; shift
	"$@" >"$TMP/plain" 2>&1; local st=$?
	for mean in 524288 1; do
		LD_PRELOAD=$LIB MEMTRACE_SAMPLE_BYTES=$mean "$@" >"$TMP/pre" 2>&1
		is "$?" "$st" "$desc (mean $mean): same exit status"
		nonempty "$TMP/plain" && cmp -s "$TMP/plain" "$TMP/pre"; ok $? "$desc (mean $mean): same output"
	done
}
same "python3 json round trip" python3 -c '
import json, sys
d = {str(i): [i] * (i % 50) for i in range(20000)}
s = json.dumps(d)
assert json.loads(s) == d
print(len(s)); sys.exit(3)'
same "python3 threads and fork" python3 -c '
import os, threading
def work(n):
    x = [bytearray(n % 5000) for _ in range(2000)]
    del x
ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
pid = os.fork()
if pid == 0:
    os._exit(len([str(i) * 10 for i in range(10000)]) % 256)
print(os.waitpid(pid, 0)[1] >> 8)'
need_pkg sqlite3 sqlite3
same "sqlite3 workload" sqlite3 :memory: ".read tests/data/sqlite-workload.sql"
same "failing command" sh -c 'ls /nonexistent-memtrace-path'
done_testing
