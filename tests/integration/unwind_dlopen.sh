#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A library loaded after start (dlopen of Debian's libsqlite3, no frame pointers): BPF reports
# its unknown object, memtrace loads its table, and later stacks through it unwind whole.
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg jq jq
need_deb libsqlite3-0
[ -e /usr/lib/x86_64-linux-gnu/libsqlite3.so.0 ] ||
	bail "libsqlite3-0 is installed but there is no /usr/lib/x86_64-linux-gnu/libsqlite3.so.0"
tmp=$TMP

# -v: memtrace logs "unwind: <path>: N rows" when it has loaded a table; the workload waits for
# that before its second open, so the test does not depend on how fast this machine is.
"$OUT/memtrace" -v --unwind dwarf --json "$tmp/o.json" -- "$OUT/workloads/nofp_dlopen" "$tmp/go" >"$tmp/out" 2>&1 &
mt=$!
for _ in $(seq 600); do grep -q 'unwind: .*libsqlite3.*rows' "$tmp/out" && break; sleep 0.1; done
touch "$tmp/go"
wait "$mt"
check "memtrace ran the workload" grep -q 'nofp_dlopen done' "$tmp/out"
# Each stack as one line of function names (module+offset where the object has no symbol).
jq -r '.processes[0].stacks[].frames | map(.function // ((.module // "?" | split("/") | last) + "+"
	+ .module_offset)) | join(" ")' "$tmp/o.json" >"$tmp/stacks"
second=$(grep -c ' second_open main ' "$tmp/stacks")
check "stacks through the loaded library reach second_open and main ($second)" [ "$second" -ge 10 ]
check "each of them starts in libsqlite3 and ends at _start" \
	bash -c 'grep -q " second_open main " "$1" &&
		! grep " second_open main " "$1" | grep -v "^libsqlite3[^ ]* .* _start$" | grep -q .' _ "$tmp/stacks"
check "sqlite3's own frames are on the way (sqlite3BtreeOpen)" \
	bash -c 'grep " second_open main " "$1" | grep -q sqlite3BtreeOpen' _ "$tmp/stacks"
check "the library's table was loaded (exe, libc, libsqlite3 at least)" \
	bash -c 'jq -e ".unwind.tables >= 3" "$1" >/dev/null' _ "$tmp/o.json"
done_testing
