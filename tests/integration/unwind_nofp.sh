#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# CFI unwinding of code without frame pointers (tests/workloads/nofp_chain.c, -O2
# -fomit-frame-pointer, and Debian's libc): each known chain must come back whole with
# --unwind dwarf and auto, while the frame-pointer walk demonstrably loses frames.
source "$(dirname "$0")/../lib/tap.sh"
MT=$OUT/memtrace
W=$OUT/workloads/nofp_chain
need_root
need_pkg jq jq
tmp=$TMP

jqe() { jq -e "$@" >/dev/null; }
# Whether this kernel has mm_lock_seq (6.4+), which fault stacks need (memtrace check says).
mm_seq=$("$MT" check | awk '$1 == "mm_lock_seq" { print $2 }')
[ -n "$mm_seq" ] || bail "memtrace check did not say whether this kernel has mm_lock_seq"

# The function names of the stack that allocated exactly $2 bytes, innermost first, one line.
stack_of() {	# json, allocated_bytes
	jq -r --argjson b "$2" '[.processes[0].stacks[] | select(.allocated_bytes == $b)][0].frames
		| map(.function // "?") | join(" ")' "$1"
}

for mode in dwarf auto fp; do
	"$MT" --unwind $mode --json "$tmp/$mode.json" -o "$tmp/$mode.txt" -- "$W" >"$tmp/$mode.out" 2>&1
	check "$mode: memtrace ran the workload" grep -q 'nofp_chain done' "$tmp/$mode.out"
done

for mode in dwarf auto; do
	j=$tmp/$mode.json
	chain=$(stack_of "$j" 32000)
	check "$mode: main -> chain_a -> chain_b -> chain_c -> malloc whole ($chain)" \
		bash -c '[[ "$1" == "chain_c chain_b chain_a main "* ]]' _ "$chain"
	dup=$(stack_of "$j" 250)
	check "$mode: strdup's caller is shown ($dup)" \
		bash -c '[[ "$1" == "__strdup dup_caller main "* ]]' _ "$dup"
	deep=$(stack_of "$j" 7000)
	ndeep=$(grep -o 'deep' <<<"$deep" | wc -l)
	check "$mode: 70 recursive frames then main ($ndeep deep)" \
		bash -c '[ "$1" -eq 70 ] && [[ "$2" == *"deep main "* ]]' _ "$ndeep" "$deep"
	sig=$(stack_of "$j" 3000)
	check "$mode: through the signal frame back to main ($sig)" \
		bash -c '[[ "$1" == "on_signal "*" raise signal_victim main "* ]]' _ "$sig"
	check "$mode: stacks end at _start" bash -c '[[ "$1" == *" _start" ]]' _ "$chain"
	# Page faults unwind from the faulting instruction, here inside libc's memset (no frame
	# pointers). Before 6.4 (no mm_lock_seq) the fault event can look up only the faulting
	# address's mapping: the walk goes on through the code mappings allocation stacks found
	# (vma_recent), and memtrace says so when it starts.
	touch=$(jq -r '[.processes[0].resident.stacks[] | select(any(.frames[]; .function == "touch_inner"))]
		| max_by(.minor_faults) // {} | "\(.minor_faults) \(.frames // [] | map(.function // "?") | join(" "))"' "$j")
	check "$mode: the faults of 256 KiB touched in memset unwind to touch_inner touch_outer main ($touch)" \
		bash -c '[ "${1%% *}" -ge 60 ] && [[ "${1#* }" == *memset*" touch_inner touch_outer main "*" _start" ]]' _ "$touch"
	if [ "$mm_seq" != yes ]; then
		check "$mode: before 6.4, memtrace said what fault stacks go through" \
			grep -q "page-fault stacks go only through code that allocation stacks went through" "$tmp/$mode.out"
	fi
	check "$mode: no unwinding failures counted" \
		jqe '.lost_events_by_reason | .unwind_no_table + .unwind_unsupported + .unwind_read_fault == 0' "$j"
	check "$mode: tables reported (count, memory, load time)" \
		jqe '.unwind.mode == "'$mode'" and .unwind.tables >= 2 and .unwind.peak_table_bytes > 100000
			and .unwind.load_ms > 0' "$j"
	check "$mode: text report states the tables' cost" grep -q "^unwind: $mode, [0-9]* tables" "$tmp/$mode.txt"
done

# The frame-pointer walk cannot get through chain_b's frame (rbp holds data): the test can fail.
chain=$(stack_of "$tmp/fp.json" 32000)
check "fp: the frame-pointer walk loses the chain ($chain)" \
	bash -c '[[ "$1" == chain_c* && "$1" != "chain_c chain_b chain_a main"* ]]' _ "$chain"
check "fp: no tables in frame-pointer mode" jqe '.unwind.tables == 0' "$tmp/fp.json"

# While another thread maps and unmaps in a loop, bpf_find_vma cannot take the mmap lock: the
# unwinder finds each pc's mapping as last seen (vma.bpf.h, vma_recent). Without that, about one
# stack in ten of the 20,000 stopped at contended_c; with it, only a thread's first walk on a CPU
# that has not seen its objects yet can still stop short (a few at most).
"$MT" --json "$tmp/cont.json" -o /dev/null -- "$OUT/workloads/nofp_contended" >"$tmp/cont.out" 2>&1
check "contended: the workload ran, another thread mapping meanwhile" \
	grep -Eq 'nofp_contended done \([1-9][0-9]* maps' "$tmp/cont.out"
whole=$(jq '[.processes[0].stacks[] | select(.frames[0].function == "contended_c") |
	select([.frames[:4][].function] == ["contended_c", "contended_b", "contended_a", "main"]) |
	select(.frames[-1].function == "_start") | .allocations] | add // 0' "$tmp/cont.json")
check "contended: at least 19,990 of the 20,000 stacks whole, to _start ($whole)" \
	test "$whole" -ge 19990 -a "$whole" -le 20000
check "contended: at most 10 unwinding failures counted" \
	jqe '.lost_events_by_reason | .unwind_no_table + .unwind_read_fault <= 10' "$tmp/cont.json"

# A program with frame pointers through libc's strdup (auto: FP for it, CFI for libc).
"$MT" --unwind auto --json "$tmp/leaky.json" -- "$OUT/workloads/leaky" >/dev/null 2>&1
dup=$(stack_of "$tmp/leaky.json" 600)
check "auto, frame-pointer program: strdup's caller shown ($dup)" \
	bash -c '[[ "$1" == "__strdup leak_strdup main "* ]]' _ "$dup"
check "auto: the frame-pointer program needs no table of its own" jqe '.unwind.fp_objects >= 1' "$tmp/leaky.json"
done_testing
