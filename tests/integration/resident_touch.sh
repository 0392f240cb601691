#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Page faults attributed to the function that touched memory (tests/workloads/touch.c), sized by
# what the kernel allocated, checked against the kernel's own RssAnon growth per function.
source "$(dirname "$0")/../lib/tap.sh"
need_root

"$MEMTRACE" --json "$TMP/r.json" -o "$TMP/report.txt" -- "$WL/touch" >"$TMP/stdout"
is "$?" 0 "memtrace exits with the command's status"
grep -q '^touch done' "$TMP/stdout"; ok $? "the workload ran"
python3 tests/lib/faults.py "$TMP/r.json" anon >"$TMP/anon"
cat "$TMP/anon" | sed 's/^/# anon faults: /'
f() { awk -v f="$1" -v c="$2" '$1 == f { print $c }' "$TMP/anon"; }	# function column
kernel_bytes() { echo $(($(awk -v f="$1" '$1 == f { print $2 }' "$TMP/stdout") * 1024)); }
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
# The kernel's RssAnon: exact since 6.2 (per-cpu counters summed); before, each thread kept its
# own count and folded it in every 64 faults (SPLIT_RSS_COUNTING), so /proc lags by up to 64 pages.
kver=$(uname -r)
kmaj=${kver%%.*} kmin=${kver#*.}
kmin=${kmin%%[!0-9]*}
lag=0
[ "$kmaj" -lt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -lt 2 ]; } && lag=$((64 * 4096))
as_kernel() {	# got kernel desc: the same, within the lag of a kernel before 6.2
	local got=$1 want=$2; shift 2
	if [ "$lag" -eq 0 ]; then is "$got" "$want" "$*"; return; fi
	[ -n "$got" ] && [ -n "$want" ] && [ "$got" -ge $((want - lag)) ] && [ "$got" -le $((want + lag)) ]
	ok $? "$* (memtrace $got, kernel $want, within the $lag B this kernel's RssAnon lags)"
}

# touch_mmap writes each of 2048 pages once, in a mapping not advised for huge pages: one fault
# per page, exactly, unless the machine makes every mapping huge ("always").
if [[ $thp == *"[always]"* ]]; then
	[ "$(f touch_mmap 2)" -le 2048 ]; ok $? "touch_mmap: at most 2048 faults (THP always)"
else
	is "$(f touch_mmap 2)" 2048 "touch_mmap: one fault per page of 8 MiB"
fi
is "$(f touch_mmap 4)" 8388608 "touch_mmap: 8 MiB made resident"
as_kernel "$(f touch_mmap 4)" "$(kernel_bytes touch_mmap)" "touch_mmap: the same as the kernel's RssAnon growth"

# touch_half writes the first 2048 pages of a 16 MiB malloc block; malloc itself wrote the block's
# header into the first of them, and that fault belongs to malloc's stack (whose caller, without
# frame pointers in libc, is main): so 2047 or 2048 faults, the tolerance of that one page. Where
# every mapping may be huge (THP "always"), the 8 MiB come in fewer faults, and the huge page
# that holds the header may bring in up to 2 MiB more than was written.
faults=$(f touch_half 2)
bytes=$(f touch_half 4)
if [[ $thp == *"[always]"* ]]; then
	[ "$faults" -ge 4 ] && [ "$faults" -le 2048 ]; ok $? "touch_half: 4..2048 faults (THP always; got $faults)"
	[ "$bytes" -ge $((8388608 - 4096)) ] && [ "$bytes" -le $((8388608 + (2 << 20))) ]
	ok $? "touch_half: 8 MiB resident, within a huge page (THP always; got $bytes)"
else
	[ "$faults" -ge 2047 ] && [ "$faults" -le 2048 ]; ok $? "touch_half: 2047..2048 faults (got $faults)"
	[ "$bytes" -ge $((8388608 - 4096)) ] && [ "$bytes" -le 8388608 ]; ok $? "touch_half: 8 MiB resident, within the header page (got $bytes)"
fi
is "$(python3 tests/lib/site.py "$TMP/r.json" heap | awk '$1 == "touch_half" { print $2 }')" 16777216 \
	"touch_half: 16 MiB of heap outstanding: heap bytes twice the resident ones"
grep -q "touched +$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB (anon) by touch_half" "$TMP/report.txt"
ok $? "text report: touch_half's resident line"
grep -q "16.0 MiB in 1 heap blocks" "$TMP/report.txt"; ok $? "text report: beside its 16 MiB heap stack"

# touch_huge writes every page of a 2 MiB-aligned 4 MiB range advised MADV_HUGEPAGE: two faults
# of 2 MiB each where THP is available, else 1024 of 4 KiB; 4 MiB either way.
is "$(f touch_huge 4)" 4194304 "touch_huge: 4 MiB resident, huge pages counted at their size"
as_kernel "$(f touch_huge 4)" "$(kernel_bytes touch_huge)" "touch_huge: the same as the kernel's RssAnon growth"
if [[ $thp != *"[never]"* ]]; then
	faults=$(f touch_huge 2)
	[ "$faults" = 2 ] || [ "$faults" = 1024 ]; ok $? "touch_huge: 2 huge faults (or 1024 if none was free): $faults"
else
	skip "transparent huge pages are off here ([never]): no huge fault to count"
fi

# read_zero reads 256 untouched pages: one fault each; whether they allocate is the kernel's call
# (the shared zero page or not), and the bytes follow what the kernel did.
is "$(f read_zero 2)" 256 "read_zero: one fault per page read"
as_kernel "$(f read_zero 4)" "$(kernel_bytes read_zero)" "read_zero: bytes as the kernel's RssAnon growth"

# A file page the machine had evicted (a library of a fresh build) may fault in as major: count
# only the anonymous mappings, which nothing reads from disk here (no swap).
is "$(jpy "sum(d['processes'][0]['resident']['by_mapping'][k]['major_faults'] for k in ('anon', 'heap', 'stack'))" "$TMP/r.json")" \
	0 "no major faults for anonymous memory"
# 20 MiB written, and what read_zero's reads allocated: nothing where the kernel maps the shared
# zero page (THP "always" maps the huge zero page), 1 MiB where it allocates.
is "$(jpy "d['processes'][0]['resident']['by_mapping']['anon']['bytes'] >= (20 << 20) + $(f read_zero 4)" "$TMP/r.json")" True \
	"by mapping: at least the 20 MiB written above, and what read_zero's reads allocated, are anonymous"
is "$(jpy "any(f['path'].endswith('/touch') for f in d['processes'][0]['resident']['files'])" "$TMP/r.json")" True \
	"by file: the program's own text was faulted in, by path"
is "$(jpy "d['lost_events_by_reason']['ringbuf_full']" "$TMP/r.json")" 0 "no event lost"

"$MEMTRACE" --no-faults --json "$TMP/n.json" -o /dev/null -- "$WL/touch" >/dev/null
is "$(jpy "d['resident']['minor_faults'] + len(d['processes'][0]['resident']['stacks'])" "$TMP/n.json")" 0 \
	"--no-faults: no fault counted"
# Faults while another thread keeps the mm's lock busy (mmap, munmap): BPF cannot look their
# mapping up then, and memtrace finds it in /proc/PID/maps as it reads them. All 8192 are anon.
"$MEMTRACE" --no-live --json "$TMP/c.json" -o /dev/null -- "$WL/touch_contended" >"$TMP/c.out"
is "$?" 0 "touch_contended: memtrace exits with the command's status"
python3 tests/lib/faults.py "$TMP/c.json" anon >"$TMP/c.anon"
is "$(awk '$1 == "touch_contended" { print $2, $4 }' "$TMP/c.anon")" "8192 33554432" \
	"touch_contended: 8192 anonymous faults, 32 MiB, though the lock was contended ($(cat "$TMP/c.out"))"
is "$(jpy "d['processes'][0]['resident']['by_mapping']['unknown']['minor_faults']" "$TMP/c.json")" 0 \
	"touch_contended: no fault left of unknown mapping"

# The mapping of a fault is read from the kernel's VMA tree without its lock where mm_lock_seq is
# a seqcount (6.12 on: memtrace check says "VMA tree read yes"), bpf_find_vma elsewhere
# (bpf/vma.bpf.h). MEMTRACE_CHECK_VMA makes every answer of the tree be asked of bpf_find_vma
# too: none may differ, though the other thread keeps changing the tree; the tree must have
# answered where check says it is read, and not at all elsewhere.
tree=$("$MEMTRACE" check | awk '$1 == "VMA" && $2 == "tree" && $3 == "read" { print $4 }')
[ -n "$tree" ] || bail "memtrace check did not say whether this kernel's VMA tree is read"
MEMTRACE_CHECK_VMA=1 "$MEMTRACE" -v --no-live --json "$TMP/v.json" -o /dev/null -- "$WL/touch_contended" \
	>/dev/null 2>"$TMP/v.err"
is "$?" 0 "MEMTRACE_CHECK_VMA: memtrace exits with the command's status"
checks=$(grep -o 'vma tree checks: .*' "$TMP/v.err")
same=$(vma_check "$TMP/v.err" same)
is "$(vma_check "$TMP/v.err" differ)" 0 "the VMA tree's answers are the kernel's ($checks)"
if [ "$tree" = yes ]; then
	[ -n "$same" ] && [ "$same" -ge 100 ]; ok $? "kernel $kver: the tree answered, and was checked ($same times)"
else
	is "$same" 0 "kernel $kver: mm_lock_seq is no seqcount here (memtrace check), the tree is not read"
fi
python3 tests/lib/faults.py "$TMP/v.json" anon >"$TMP/v.anon"
is "$(awk '$1 == "touch_contended" { print $2, $4 }' "$TMP/v.anon")" "8192 33554432" \
	"MEMTRACE_CHECK_VMA: the same 8192 anonymous faults, 32 MiB"
done_testing
