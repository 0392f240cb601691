#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The unwinder's row cache (bpf/unwind.bpf.h) must not outlive what it describes: a library is
# unloaded and another loaded at the same address, whose code returns from malloc to the same pc
# with a different frame size (tests/workloads/reload_lib.c). Stacks through the second library
# must still unwind whole, to main and _start.
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg jq jq
tmp=$TMP

# -v: memtrace logs "unwind: <path>: N rows" when it has loaded a table; the workload waits for
# that before allocating through each library, so the test does not depend on timing.
"$OUT/memtrace" -v --unwind dwarf --json "$tmp/o.json" -- \
	"$OUT/workloads/nofp_reload" "$OUT/workloads" "$tmp/go_a" "$tmp/go_b" >"$tmp/out" 2>&1 &
mt=$!
for lib in a b; do
	for _ in $(seq 600); do grep -q "unwind: .*libreload_$lib.so: .*rows" "$tmp/out" && break; sleep 0.1; done
	touch "$tmp/go_$lib"
done
wait "$mt"
rc=$?	# memtrace exits with the command's status: 4 = b did not load where a was
check "library b was loaded where a had been (else this test proves nothing)" [ "$rc" -ne 4 ]
check "memtrace ran the workload (exit $rc)" grep -q 'nofp_reload done' "$tmp/out"
jq -r '.processes[0].stacks[] | "\(.allocations) \(.frames | map(.function // "?") | join(" "))"' \
	"$tmp/o.json" >"$tmp/stacks"
sum() { awk -v re="$1" '$0 ~ re { n += $1 } END { print n + 0 }' "$tmp/stacks"; }
a=$(sum ' reload_alloc via_a main .*_start$')
b=$(sum ' reload_alloc via_b main .*_start$')
check "100 blocks through library a unwound to main and _start ($a)" [ "$a" -ge 100 ]
check "100 blocks through library b, at a's old pcs, unwound to main and _start ($b)" [ "$b" -ge 100 ]
# The first call through each library comes before its table is loaded: those two stop early.
short=$(grep ' reload_alloc' "$tmp/stacks" | grep -v ' main .*_start$' | awk '{ n += $1 } END { print n + 0 }')
check "only the 2 calls that announced the libraries are cut short ($short)" \
	bash -c 'grep -q " reload_alloc" "$1" && [ "$2" -le 2 ]' _ "$tmp/stacks" "$short"
done_testing
