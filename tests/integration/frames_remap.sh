#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A frame's pc is named after the code mapped there when memtrace read its stack. A library
# loaded, allocated through and unloaded, and a data file mapped where its code was, all before
# memtrace reads those allocations (it is stopped meanwhile; the loader maps /etc/ld.so.cache so
# while it loads the next library): their frames must not be named after the data file, which
# holds no code (tests/workloads/unmap_remap.c).
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg jq jq
tmp=$TMP
flags=$tmp/flags
mkdir -p "$flags"
head -c 65536 /dev/zero >"$tmp/data.bin"

# Each step waits for the workload's flag file, for at most a minute.
flag() {
	for _ in $(seq 600); do [ -e "$flags/$1" ] && return 0; sleep 0.1; done
	return 1
}

"$OUT/memtrace" --json "$tmp/o.json" -o /dev/null -- \
	"$OUT/workloads/unmap_remap" "$OUT/workloads" "$tmp/data.bin" "$flags" >"$tmp/out" 2>&1 &
mt=$!
flag ready
kill -STOP "$mt"
touch "$flags/go"
flag done
kill -CONT "$mt"
touch "$flags/end"
wait "$mt"
rc=$?
check "the workload remapped and ended (exit $rc)" grep -q 'unmap_remap done' "$tmp/out"
check "the 10 blocks made through the unloaded library are in the report" bash -c 'jq -e "
	[.processes[0].stacks[] | select(.allocated_bytes == 42420 and .allocations == 10)]
	| length == 1" "$1" >/dev/null' _ "$tmp/o.json"
check "no frame is named after the data file mapped where the library's code was" bash -c 'jq -e "
	[.processes[0].stacks[].frames[].module] | index(\"$2\") == null" "$1" >/dev/null' \
	_ "$tmp/o.json" "$tmp/data.bin"
done_testing
