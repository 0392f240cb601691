#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Replayed walks (bpf/walk.bpf.h) must not mix up two paths that reach one allocation with the
# same ip and sp: tests/workloads/nofp_paths.c interleaves main -> via_a -> grab and
# main -> via_b -> grab, 600 and 200 calls of 24 bytes, built without frame pointers.
source "$(dirname "$0")/../lib/tap.sh"
MT=$OUT/memtrace
W=$OUT/workloads/nofp_paths
need_root
need_pkg jq jq

# "bytes blocks" of the stack whose three innermost functions are $2, or "none".
held_by() {	# json, "grab via_a main"
	jq -r --arg s "$2" '[.processes[0].stacks[] | select((.frames[:3] | map(.function // "?")
		| join(" ")) == $s)] | if length == 1 then "\(.[0].outstanding_bytes) \(.[0].outstanding_allocations)"
		else "\(length) stacks" end' "$1"
}

jqq() { jq -e "$@" >/dev/null; }

for mode in dwarf auto; do
	j=$TMP/$mode.json
	"$MT" --unwind $mode --json "$j" -o /dev/null -- "$W" >"$TMP/$mode.out" 2>&1
	check "$mode: memtrace ran the workload" grep -q 'nofp_paths done' "$TMP/$mode.out"
	is "$(held_by "$j" "grab via_a main")" "14400 600" "$mode: main -> via_a -> grab holds 600 x 24 B"
	is "$(held_by "$j" "grab via_b main")" "4800 200" "$mode: main -> via_b -> grab holds 200 x 24 B"
	jq -c ".lost_events_by_reason" "$j" | sed "s/^/# /"
	check "$mode: no unwinding failures counted" jqq '.lost_events_by_reason
		| .unwind_no_table + .unwind_unsupported + .unwind_read_fault == 0' "$j"
done
done_testing
