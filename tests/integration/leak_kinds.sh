#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# --leak-check at exit on workloads with a block in each of memcheck's categories (definitely,
# indirectly, possibly lost, still reachable from globals, a local, TLS, another thread's stack
# and another thread's register): exact bytes and blocks per allocating function, and the same
# verdicts as valgrind --leak-check=full on the same binary, category by category and function
# by function. C (tests/workloads/leak_kinds.c) and C++ (leak_cxx.cc: new, new[], heuristics).
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg valgrind valgrind

# valgrind's own verdicts, LEAK SUMMARY (text) and records (XML). No freeres: memtrace sees the
# process as it exits, with libc's and libstdc++'s buffers still held.
vg() {	# name binary
	local vgo=(--leak-check=full --show-leak-kinds=all --run-libc-freeres=no --run-cxx-freeres=no --demangle=no)
	vg_run "${vgo[@]}" --log-file="$TMP/$1.vg" "$2" >/dev/null
	vg_run "${vgo[@]}" --xml=yes --xml-file="$TMP/$1.xml" "$2" >/dev/null 2>&1
	nonempty "$TMP/$1.vg" "$TMP/$1.xml" || bail "valgrind did not run $2"
}

mt() {	# name binary: memtrace's verdicts, every output
	timeout 60 "$MEMTRACE" --leak-check --no-live -o "$TMP/$1.txt" --json "$TMP/$1.json" \
		--folded "$TMP/$1.folded" --folded-value lost --pprof "$TMP/$1.pb.gz" -- "$2" >/dev/null 2>"$TMP/$1.err"
}

# memtrace's categories equal valgrind's LEAK SUMMARY; its records equal valgrind's, summed by the
# workload's own function that allocated.
agree() {	# name binary function-regex
	local got want
	want=$(python3 tests/lib/leaks.py summary "$TMP/$1.vg")
	got=$(python3 tests/lib/leaks.py mt --totals "$TMP/$1.json")
	is "$got" "$want" "$1: the four categories equal valgrind's LEAK SUMMARY ($(echo $want))"
	python3 tests/lib/leaks.py vg "$TMP/$1.xml" "$(basename "$2")" | grep -E " ($3) " >"$TMP/$1.vgsites"
	python3 tests/lib/leaks.py mt "$TMP/$1.json" | grep -E " ($3) " >"$TMP/$1.mtsites"
	diff -u "$TMP/$1.vgsites" "$TMP/$1.mtsites" >"$TMP/$1.diff"
	ok $? "$1: bytes and blocks per category and function equal valgrind's loss records ($(wc -l <"$TMP/$1.mtsites") records)"
	[ -s "$TMP/$1.diff" ] && sed 's/^/#   /' "$TMP/$1.diff"
}

site() {	# name category function: its 'bytes blocks' in memtrace's report
	python3 tests/lib/leaks.py mt "$TMP/$1.json" | awk -v k="$2" -v f="$3" '$1 == k && $2 == f { print $3, $4 }'
}

# ---- C ----
vg c "$WL/leak_kinds"
mt c "$WL/leak_kinds"
is "$?" 0 "memtrace --leak-check exits with the command's status (0)"
is "$(jpy "d['processes'][0]['leak_check']['done'], d['processes'][0]['leak_check']['when'], d['processes'][0]['leak_check']['threads']" "$TMP/c.json")" \
	"True exit 3" "checked at exit, with its 3 threads stopped (held at _exit, before they die)"
is "$(site c definitely_lost leak_definite)" "1111 1" "definitely lost: the block whose only pointer was overwritten"
is "$(site c definitely_lost list_head)" "48 1" "definitely lost: the list's lost head"
is "$(site c indirectly_lost list_node)" "192 3" "indirectly lost: the 3 nodes behind it"
is "$(jpy "sum(s['leak_check']['indirectly_lost_behind'] for s in d['processes'][0]['stacks'] if s.get('leak_check'))" "$TMP/c.json")" \
	192 "the head's record carries the 192 bytes behind it"
is "$(site c possibly_lost leak_interior)" "2000 1" "possibly lost: only a pointer to its middle"
for f in "reach_global 3000" "reach_chain 400" "reach_stack 4000" "reach_tls 5000" \
	"thread_stack 6000" "thread_register 7000"; do
	set -- $f
	is "$(site c still_reachable "$1")" "$2 1" "still reachable: $1 ($2 bytes)"
done
agree c "$WL/leak_kinds" 'leak_definite|list_head|list_node|leak_interior|reach_[a-z]+|thread_[a-z]+|main'
grep -q '^  definitely lost: 1159 bytes in 2 blocks$' "$TMP/c.txt"; ok $? "text report: valgrind's words and exact bytes"
grep -Eq '^48 bytes in 1 block is definitely lost, 192 bytes indirectly lost behind it' "$TMP/c.txt"
ok $? "text report: the head's loss record with what is behind it"
grep -Eq "^leak check at exit: 3 threads stopped for [0-9.]+ ms, .* read \(.* of roots, .* of heap blocks\)$" "$TMP/c.txt"
ok $? "text report: how long the threads were stopped and what was read ($(grep '^leak check' "$TMP/c.txt"))"
timeout 60 "$MEMTRACE" --leak-check --error-exitcode 9 --no-live -o /dev/null -- "$WL/leak_kinds" >/dev/null 2>&1
is "$?" 9 "--error-exitcode 9: blocks definitely lost, so memtrace exits 9 (the command exited 0)"
# Exports: folded and pprof count definitely + indirectly lost bytes.
is "$(grep -E ';(leak_definite|list_head|list_node) ' "$TMP/c.folded" | awk '{ s += $NF } END { print s }')" 1351 \
	"folded --folded-value lost: 1111 + 48 + 192 bytes on the leaking stacks"
is "$(grep -c 'reach_' "$TMP/c.folded")" 0 "folded: reachable stacks left out"
is "$(python3 - "$TMP/c.pb.gz" <<'EOF'
import gzip, sys
d = gzip.open(sys.argv[1]).read()
def varint(p):
    v = s = 0
    while True:
        b = d[p]; p += 1; v |= (b & 0x7f) << s; s += 7
        if not b & 0x80: return v, p
def fields(a, b):
    while a < b:
        t, a = varint(a)
        if t & 7 == 2:
            n, a = varint(a); yield t >> 3, d[a:a + n], a, a + n; a += n
        else:
            v, a = varint(a); yield t >> 3, v, None, None
strs = [v.decode() for f, v, _, _ in fields(0, len(d)) if f == 6]
types = []
for f, v, a, b in fields(0, len(d)):
    if f == 1:
        kv = {k: x for k, x, _, _ in fields(a, b)}
        types.append(strs[kv[1]])
lost = 0
for f, v, a, b in fields(0, len(d)):
    if f == 2:
        for k, x, c, e in fields(a, b):
            if k == 2:
                vals, p = [], c
                while p < e:
                    x, p = varint(p); vals.append(x)
                lost += vals[types.index("lost_space")]
print(" ".join(types[4:]), lost)
EOF
)" "lost_objects lost_space 1351" "pprof: lost_objects and lost_space sample types, 1351 bytes in all"

# ---- C++ ----
vg cxx "$WL/leak_cxx"
mt cxx "$WL/leak_cxx"
is "$?" 0 "C++: exits with the command's status"
is "$(site cxx definitely_lost _Z11lost_objectv)" "120 1" "C++: new'd object lost"
is "$(site cxx definitely_lost _Z10lost_arrayv)" "3000 1" "C++: new[]'d array lost"
is "$(site cxx still_reachable _Z12kept_derivedv)" "40 1" "C++: reached through its second base (multipleinheritance heuristic)"
is "$(site cxx still_reachable _Z12kept_countedv)" "88 1" "C++: reached past new[]'s element count (newarray heuristic)"
is "$(jpy "d['processes'][0]['leak_check']['reachable_via_heuristic']['bytes']" "$TMP/cxx.json")" 128 \
	"C++: 128 bytes reached through a heuristic, as valgrind says"
grep -A1 '^120 bytes in 1 block is definitely lost' "$TMP/cxx.txt" | grep -q '^  -> lost_object() (leak_cxx.cc:'
ok $? "C++: the text report's loss record names lost_object() demangled"
agree cxx "$WL/leak_cxx" '_Z[0-9]+(lost|kept)_[a-z]+v|_ZNSt15__new_allocatorIlE8allocateEmPKv'
done_testing
