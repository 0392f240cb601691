#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Sampling mode with a 1-byte mean: every block is sampled (p = 1 - exp(-size) = 1 for any real
# size), so the estimates must be the exact figures full tracing gives, site by site, with the
# direct caller of malloc as the first frame (none of libmemtrace-sample.so's frames).
source "$(dirname "$0")/../lib/tap.sh"
need_root

line() { grep -n -m1 -- "$1" tests/workloads/sample_sites.c | cut -d: -f1; }

"$MEMTRACE" --no-live --sample-bytes 1 --json "$TMP/s.json" --folded "$TMP/s.folded" -o "$TMP/s.txt" \
	-- "$WL/sample_sites" exact >"$TMP/out" 2>"$TMP/err"
is "$?" 0 "memtrace --sample-bytes exits with the command's status"
is "$(cat "$TMP/out")" "sample_sites done" "the command's stdout passes through"
"$MEMTRACE" --no-live --json "$TMP/f.json" -o /dev/null -- "$WL/sample_sites" exact >/dev/null 2>&1

python3 tests/lib/site.py "$TMP/s.json" >"$TMP/s.sites"
python3 tests/lib/site.py "$TMP/f.json" >"$TMP/f.sites"
expect() {	# function bytes blocks
	is "$(awk -v f="$1" '$1 == f {print $2, $3}' "$TMP/s.sites")" "$2 $3" "sampled: $1 holds $2 B in $3 blocks"
}
expect keep_small 4800 100
expect keep_calloc 10000 10
expect realloc_grow 20000 5			# realloc of a sampled block moves it to the realloc's site
absent() {	# function why: no line for it, in a report that has lines
	nonempty "$TMP/s.sites" && ! grep -q "^$1 " "$TMP/s.sites"
	ok $? "sampled: $1 holds nothing ($2)"
}
absent realloc_start "the realloc took its block away"
absent free_all "frees of sampled blocks remove them"
out=$(nonempty "$TMP/f.sites" "$TMP/s.sites" && diff -u "$TMP/f.sites" "$TMP/s.sites")
ok $? "every site is the same as with full tracing"
[ -z "$out" ] || sed 's/^/#   /' <<<"$out"
is "$(jpy "sum(s['allocated_bytes'] for s in d['processes'][0]['stacks'] if s['frames'][0]['function'] == 'free_all')" "$TMP/s.json")" \
	512000 "free_all: 1000 x 512 B allocated, all freed"
is "$(jpy "d['summary']['frees'], d['summary']['unknown_frees'], d['summary']['lost_events']" "$TMP/s.json")" \
	"$(jpy "d['summary']['frees'], d['summary']['unknown_frees'], d['summary']['lost_events']" "$TMP/f.json")" \
	"frees counted as full tracing counts them, none unknown, none lost"

# The first frame is the line in keep_small that calls malloc; main follows. No frame of the
# library (its wrappers or hooks) anywhere.
is "$(jpy "[(f['function'], f['line']) for s in d['processes'][0]['stacks'] for f in s['frames'][:2] if s['frames'][0]['function'] == 'keep_small']" "$TMP/s.json")" \
	"[('keep_small', $(line 'hold(malloc(48))')), ('main', $(line '^		keep_small();'))]" \
	"first frame: the direct caller of malloc, at the line of the call"
is "$(jpy "sum(1 for p in d['processes'] for s in p['stacks'] for f in s['frames'] if 'libmemtrace-sample' in (f.get('module') or ''))" "$TMP/s.json")" \
	0 "no frame of libmemtrace-sample.so in any stack"
is "$(jpy "d['processes'][0]['sampled'], d['processes'][0]['sample_bytes']" "$TMP/s.json")" "True 1" "JSON says the process is sampled, and at what mean"
is "$(jpy "d['processes'][0]['sampled'], d['processes'][0]['sample_bytes']" "$TMP/f.json")" "False 0" "and that a fully traced one is not"
grep -q '^sampled: .* one per 1 B allocated on average' "$TMP/s.txt"; ok $? "the text report says so too"
is "$(awk '/keep_small/ {s += $NF} END {print s}' "$TMP/s.folded")" 4800 "folded export carries the (here exact) estimates"

# leaky.c goes through every entry point of the malloc family.
"$MEMTRACE" --no-live --sample-bytes 1 --json "$TMP/ls.json" -o /dev/null -- "$WL/leaky" 0 >/dev/null 2>&1
"$MEMTRACE" --no-live --json "$TMP/lf.json" -o /dev/null -- "$WL/leaky" 0 >/dev/null 2>&1
is "$(python3 tests/lib/site.py "$TMP/ls.json")" "$(python3 tests/lib/site.py "$TMP/lf.json")" \
	"leaky: malloc, calloc, realloc, reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc as traced"
done_testing
