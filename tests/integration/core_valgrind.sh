#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# memtrace and valgrind (which replaces malloc in-process: an independent witness) must agree on
# the same workloads: total calls, frees and bytes, what is in use at exit, and per function.
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg valgrind valgrind

check() {	# name, command...
	local name=$1; shift
	# --run-libc-freeres=no: valgrind must not free libc's buffers at exit, memtrace sees none freed.
	# Twice: XML mode leaves the heap summary out, the text mode has no machine-readable records.
	valgrind --run-libc-freeres=no --log-file="$TMP/$name.vg" "$@" >/dev/null
	valgrind --run-libc-freeres=no --leak-check=full --show-leak-kinds=all --xml=yes \
		--xml-file="$TMP/$name.xml" "$@" >/dev/null 2>&1
	"$MEMTRACE" --json "$TMP/$name.json" -o /dev/null -- "$@" >/dev/null
	local vg total inuse
	total=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs, \([0-9,]*\) frees, \([0-9,]*\) bytes allocated.*/\1 \2 \3/p' "$TMP/$name.vg" | tr -d ,)
	inuse=$(sed -n 's/.*in use at exit: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p' "$TMP/$name.vg" | tr -d ,)
	[ -n "$total" ] || { ok 1 "$name: valgrind ran ($(tail -3 "$TMP/$name.vg"))"; return; }
	is "$(jpy "d['summary']['allocations'], d['summary']['frees'], d['summary']['allocated_bytes']" "$TMP/$name.json")" \
		"$total" "$name: allocations, frees and bytes allocated equal valgrind's ($total)"
	is "$(jpy "d['summary']['outstanding_bytes'], d['summary']['outstanding_allocations']" "$TMP/$name.json")" \
		"$inuse" "$name: in use at exit equals valgrind's ($inuse)"
	# The workload's own allocating functions; blocks libc allocates for itself (stdout's buffer,
	# thread DTVs) valgrind files under main, through libc frames a frame-pointer walk cannot cross.
	python3 tests/lib/vgsites.py "$TMP/$name.xml" "$(basename "$1")" | grep -E "^(leak_|thread_|churn)" >"$TMP/$name.vgsites"
	python3 tests/lib/site.py "$TMP/$name.json" | grep -E "^(leak_|thread_|churn)" >"$TMP/$name.mtsites"
	# valgrind follows strdup's caller (inside libc, no frame pointers); so does memtrace's
	# default CFI unwinding (--unwind auto).
	diff -u "$TMP/$name.vgsites" "$TMP/$name.mtsites" >"$TMP/$name.diff"
	ok $? "$name: bytes and blocks per function equal valgrind's leak records"
	[ -s "$TMP/$name.diff" ] && sed 's/^/#   /' "$TMP/$name.diff"
	[ "$(wc -l <"$TMP/$name.mtsites")" -ge 1 ]; ok $? "$name: compared $(wc -l <"$TMP/$name.mtsites") functions"
}

check leaky "$WL/leaky" 0 nopvalloc	# valgrind 3.19 aborts on pvalloc
check threads "$WL/threads"
done_testing
