#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `memtrace -- CMD` on a workload with known leaks per function (tests/workloads/leaky.c):
# exact bytes and blocks per call site, exact totals, no loss, stdout and exit status untouched.
source "$(dirname "$0")/../lib/tap.sh"
need_root

"$MEMTRACE" --json "$TMP/r.json" -o "$TMP/report.txt" -- "$WL/leaky" 3 >"$TMP/stdout" 2>"$TMP/stderr"
is "$?" 3 "memtrace exits with the command's own status"
is "$(cat "$TMP/stdout")" "leaky done" "the command's stdout passes through, and only it"
# Nothing on stderr but, on a kernel that lacks one, the line saying which capability is off.
is_empty "$(grep -v '^memtrace: warning: .* on this kernel' "$TMP/stderr")" \
	"nothing on stderr when the report goes to -o (but what this kernel lacks)"
grep -q '^memtrace report' "$TMP/report.txt"; ok $? "text report written to -o FILE"

python3 tests/lib/site.py "$TMP/r.json" heap >"$TMP/sites"
line() { grep -n -m1 -- "$1" tests/workloads/leaky.c | cut -d: -f1; }
expect() {	# function bytes blocks
	is "$(awk -v f="$1" '$1 == f {print $2, $3}' "$TMP/sites")" "$2 $3" "$1 holds $2 B in $3 blocks"
}
expect leak_malloc 10000 10
expect leak_calloc 8400 4
expect leak_realloc 20000 1
expect leak_posix_memalign 9000 3
expect leak_aligned_alloc 4096 2
expect leak_memalign 9692 3		# memalign 500 + valloc 1000 + pvalloc(5000) = 8192
expect leak_reallocarray 300 1
is "$(jpy "[sum(s[k] for s in d['processes'][0]['stacks'] if s['frames'][s['site']]['function'] == 'churn') for k in ('allocations', 'outstanding_bytes')]" "$TMP/r.json")" \
	"[20003, 0]" "churn: 20000 + realloc(NULL) + its move + malloc(10) = 20003 blocks, none held"
# Without DWARF unwinding (issue 7) libc's strdup hides its caller; the block is still there.
is "$(jpy "sum(s['outstanding_bytes'] for s in d['processes'][0]['stacks'] if s['frames'] and s['frames'][0]['function'] == '__strdup')" "$TMP/r.json")" 600 "strdup's 6 x 100 B"
is "$(python3 tests/lib/site.py "$TMP/r.json" mmap)" "leak_mmap 12288 1" "anonymous mmap kept: 3 pages, as kind mmap"

# Totals: 10 + 4 + 3 (malloc, realloc x2) + 3 + 2 + 3 + 1 + 6 + churn 20000 + 2 + 1 (realloc(p,0)'s
# malloc) + stdout's buffer = 20036 calls that returned a block.
is "$(jpy "d['summary']['allocations']" "$TMP/r.json")" 20036 "allocations counted by valgrind's rule"
is "$(jpy "d['summary']['frees']" "$TMP/r.json")" 20005 "frees: 20000 churn + 2 realloc moves + 2 + realloc(p, 0)"
is "$(jpy "d['summary']['outstanding_allocations']" "$TMP/r.json")" 31 "outstanding blocks: 30 leaked + stdout buffer"
is "$(jpy "d['summary']['outstanding_bytes']" "$TMP/r.json")" 66184 "outstanding bytes"
is "$(jpy "d['summary']['peak_outstanding_bytes'] >= d['summary']['outstanding_bytes']" "$TMP/r.json")" True "peak is at least what is outstanding"
is "$(jpy "d['summary']['lost_events']" "$TMP/r.json")" 0 "no event lost"
is "$(jpy "d['summary']['unknown_frees']" "$TMP/r.json")" 0 "every free matched (traced from the first instruction)"
is "$(jpy "d['mmap_summary']['allocations'], d['mmap_summary']['frees']" "$TMP/r.json")" "2 1" "mmap: 2 maps, 1 unmap"

# The direct caller is in every stack: leak_malloc's first frame is leak_malloc itself, at the
# line of its malloc call, and main follows (the frame-pointer walk from the entry would skip it).
is "$(jpy "[(f['function'], f['line']) for s in d['processes'][0]['stacks'] for f in s['frames'][:2] if s['frames'][0]['function'] == 'leak_malloc']" "$TMP/r.json")" \
	"[('leak_malloc', $(line 'keep(malloc(1000))')), ('main', $(line '^	leak_malloc();'))]" \
	"direct caller and its caller, with file lines"
is "$(jpy "d['processes'][0]['stacks'][0]['frames'][0]['file'].endswith('leaky.c')" "$TMP/r.json")" True "source file from DWARF"
is "$(jpy "d['processes'][0]['exited']" "$TMP/r.json")" True "the process exited and is still symbolized"
grep -q "leak_realloc (leaky.c:$(line 'p = realloc(p, 20000)'))" "$TMP/report.txt"; ok $? "text report names the call site with file:line"

# A page fault inside malloc, while its return probe is pending: the return slot holds the
# kernel's uretprobe trampoline, and the stack goes on through the real return address (taken
# from the kernel's return instances), never stopping at "[uprobes]". Before 6.4 (no
# mm_lock_seq) the fault's walk goes through the code mappings allocation stacks found.
is "$(jpy "sum(1 for k in ('stacks',) for s in d['processes'][0][k] + d['processes'][0]['resident']['stacks'] for f in s['frames'] if (f['module'] or '').startswith('[uprobes]'))" "$TMP/r.json")" 0 \
	"no stack stops at the uretprobe trampoline"
is "$(jpy "('__libc_malloc', 'leak_malloc', 'main') in {tuple(f['function'] for f in s['frames'][1:4]) for s in d['processes'][0]['resident']['stacks'] if s['frames'] and s['frames'][0]['function'] == '_int_malloc' and s['mapping'] == 'heap'}" "$TMP/r.json")" \
	True "a heap fault inside malloc is charged to malloc's caller and on up"
done_testing
