#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Probes that preempt each other (tests/workloads/preempt.c): uprobe programs run with migration
# disabled, not preemption, so on a preemptible kernel two threads' programs interleave on one
# CPU. Each run builds its event in a per-CPU working record of its own (bpf/work.bpf.h); the
# bytes per call site stay exact and nothing is lost. With MT_EXPECT_PREEMPT=1 (the kernel
# matrix boots one CPU with preempt=full for it) runs must also have been seen holding a second
# record: the interleaving this checks did happen. The mappings the programs read from the
# kernel's VMA tree (into the same record) are checked against bpf_find_vma's (MEMTRACE_CHECK_VMA).
source "$(dirname "$0")/../lib/tap.sh"
need_root

MEMTRACE_CHECK_VMA=1 "$MEMTRACE" -v --no-live --json "$TMP/r.json" -o /dev/null -- "$WL/preempt" >"$TMP/out" 2>"$TMP/err"
is "$?" 0 "memtrace and the workload exit 0"
python3 tests/lib/site.py "$TMP/r.json" heap >"$TMP/sites"
is "$(grep '^alloc_a ' "$TMP/sites")" "alloc_a 1280000 20000" "thread A: 20000 x 64 B at alloc_a"
is "$(grep '^alloc_b ' "$TMP/sites")" "alloc_b 1920000 20000" "thread B: 20000 x 96 B at alloc_b"
is "$(jpy "[d['summary']['lost_events'], d['lost_events_by_reason']['work_busy']]" "$TMP/r.json")" \
	"[0, 0]" "no event lost, no run went without a record"
nested=$(sed -n 's/.*work records: \([0-9]*\) runs took a second record.*/\1/p' "$TMP/err")
[ -n "$nested" ]; ok $? "memtrace -v says how often a run found another's record taken ($nested)"
is "$(vma_check "$TMP/err" differ)" 0 "the VMA tree's answers are bpf_find_vma's ($(grep -o 'vma tree checks: .*' "$TMP/err"))"
if [ "${MT_EXPECT_PREEMPT:-0}" = 1 ]; then
	echo "# preempt: $(cat /sys/kernel/debug/sched/preempt 2>/dev/null), $(nproc) CPU"
	[ "${nested:-0}" -gt 0 ]; ok $? "preempt=full: runs interleaved on one CPU ($nested took a second record)"
fi
done_testing
