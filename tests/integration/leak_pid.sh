#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# -p PID --leak-check: the verdicts on a process that keeps running, taken once when tracing ends
# (tests/workloads/leak_kinds.c in its GO READY END mode). Exact bytes and blocks per function,
# the same as valgrind's on the same binary run to its exit, except the block allocated before
# memtrace attached (not judged, but read as a root: what it points to stays reachable); the
# pause is reported, and the process runs on unchanged. Then what a check cannot do, refused in
# one line with exit status 1 and the process left running: the process or one of its threads
# held by another tracer, the process killed during the scan, a thread that does not stop, an
# allocator other than glibc's; and --leak-check with nothing to check or with options that hide
# blocks (exit 2).
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg valgrind valgrind

start() {	# name mode-args...: the workload, waiting for GO, and memtrace -p on it
	local name=$1; shift
	"$WL/leak_kinds" "$@" &
	wl=$!
	sleep 0.2	# pre_attach's block is allocated before memtrace attaches
	"$MEMTRACE" --leak-check -v -p "$wl" --no-live -o "$TMP/$name.txt" --json "$TMP/$name.json" \
		2>"$TMP/$name.err" &
	mt=$!
	wait_tracing "$TMP/$name.err" || bail "memtrace -p did not start tracing: $(tail -3 "$TMP/$name.err")"
}

ready() {	# dir: let the workload set up, wait until it has
	touch "$1/go"
	for _ in $(seq 200); do [ -e "$1/ready" ] && return 0; sleep 0.05; done
	bail "the workload did not get ready"
}

still_runs() {	# desc: the workload was left running; END lets it exit 0
	kill -0 "$wl" 2>/dev/null; ok $? "$1: the process runs on after memtrace"
	touch "$TMP/end"
	wait "$wl"; is "$?" 0 "$1: and exits 0 by itself"
}

# ---- on demand: the verdicts when tracing ends ----
start pid "$TMP/go" "$TMP/ready" "$TMP/end"
ready "$TMP"
kill -TERM "$mt"; wait "$mt"
is "$?" 0 "memtrace -p --leak-check ends with status 0 on SIGTERM"
is "$(jpy "[d['processes'][0]['leak_check'][k] for k in ('done', 'when', 'threads', 'unknown_blocks')]" "$TMP/pid.json")" \
	"[True, 'end', 3, True]" "checked at the end of the trace, 3 threads stopped, blocks from before attach known to exist"
pause=$(jpy "d['processes'][0]['leak_check']['pause_ms']" "$TMP/pid.json")
python3 -c "import sys; sys.exit(not 0 < float(sys.argv[1]) < 1000)" "$pause"
ok $? "the process was stopped for $pause ms (more than 0, less than 1 s)"
grep -Eq "^leak check at the end of the trace: 3 threads stopped for [0-9.]+ ms, .* read \(.* of roots, .* of heap blocks\)$" "$TMP/pid.txt"
ok $? "text report: how long it was stopped and what was read ($(grep '^leak check' "$TMP/pid.txt"))"
grep -q 'blocks allocated before memtrace attached are not judged' "$TMP/pid.txt"
ok $? "text report: says the blocks from before the attach are not judged"
python3 tests/lib/leaks.py mt "$TMP/pid.json" >"$TMP/pid.sites"
is "$(grep -c ' pre_attach ' "$TMP/pid.sites")" 0 "pre_attach's block (before the attach) is not judged"
is "$(awk '$2 == "late" { print $1, $3, $4 }' "$TMP/pid.sites")" "still_reachable 800 1" \
	"late: reachable only through pre_attach's block, which is read as a root"
for f in "definitely_lost leak_definite 1111 1" "definitely_lost list_head 48 1" \
	"indirectly_lost list_node 192 3" "possibly_lost leak_interior 2000 1" \
	"still_reachable reach_global 3000 1" "still_reachable reach_stack 4000 1" \
	"still_reachable reach_tls 5000 1" "still_reachable thread_stack 6000 1" \
	"still_reachable thread_register 7000 1"; do
	set -- $f
	is "$(awk -v k="$1" -v f="$2" '$1 == k && $2 == f { print $3, $4 }' "$TMP/pid.sites")" "$3 $4" "$1: $2 ($3 bytes in $4)"
done
still_runs "-p"

# valgrind on the same binary and mode, run through to its exit (GO and END already there): the
# same records, but for pre_attach's, which valgrind saw allocated.
mkdir "$TMP/vg"; touch "$TMP/vg/go" "$TMP/vg/end"
vg_run --leak-check=full --show-leak-kinds=all --run-libc-freeres=no --demangle=no --xml=yes \
	--xml-file="$TMP/vg.xml" "$WL/leak_kinds" "$TMP/vg/go" "$TMP/vg/ready" "$TMP/vg/end" >/dev/null 2>&1
python3 tests/lib/leaks.py vg "$TMP/vg.xml" leak_kinds | grep -v ' pre_attach ' >"$TMP/vg.sites"
nonempty "$TMP/vg.sites"
diff -u "$TMP/vg.sites" "$TMP/pid.sites" >"$TMP/vg.diff"
ok $? "bytes and blocks per category and function equal valgrind's, pre_attach aside ($(wc -l <"$TMP/pid.sites") records)"
[ -s "$TMP/vg.diff" ] && sed 's/^/#   /' "$TMP/vg.diff"

# ---- another tracer holds one of its threads: refused, nothing left stopped ----
mkdir "$TMP/held"
start held "$TMP/held/go" "$TMP/held/ready" "$TMP/end"
rm -f "$TMP/end"
ready "$TMP/held"
tid=$(ls "/proc/$wl/task" | grep -vx "$wl" | head -1)
coproc HOLD { exec "$OUT/tools/ptrace_hold" "$tid" 30; }
read -r -t 5 line <&"${HOLD[0]}"; is "$line" "held $tid" "ptrace_hold holds thread $tid"
kill -TERM "$mt"; wait "$mt"
is "$?" 1 "a thread held by another tracer: memtrace exits 1"
grep -q "no leak check of pid $wl: thread $tid of pid $wl is held by another tracer (ptrace_hold, pid [0-9]*): detach it" "$TMP/held.err"
ok $? "and says which thread, which tracer, and what to do ($(grep 'no leak check' "$TMP/held.err"))"
is "$(jpy "d['processes'][0]['leak_check']['done']" "$TMP/held.json")" False "JSON: the check is marked not done"
kill "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null
still_runs "another tracer"

# ---- another tracer holds the process itself (its first thread), as gdb -p does ----
"$WL/leak_kinds" "$TMP/gdb.go" "$TMP/gdb.ready" "$TMP/gdb.end" &
wl=$!
sleep 0.2
coproc HOLD { exec "$OUT/tools/ptrace_hold" "$wl" 30; }
read -r -t 5 line <&"${HOLD[0]}"; is "$line" "held $wl" "ptrace_hold holds pid $wl"
"$MEMTRACE" --leak-check -p "$wl" -d 1 --no-live -o "$TMP/gdb.txt" >/dev/null 2>"$TMP/gdb.err"
is "$?" 1 "a process held by another tracer: memtrace exits 1"
grep -q "^memtrace: no leak check of pid $wl: another tracer holds it (ptrace_hold, pid [0-9]*): detach it, then run memtrace again$" "$TMP/gdb.err"
ok $? "and one line names the tracer ($(grep 'no leak check' "$TMP/gdb.err"))"
kill "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null
touch "$TMP/gdb.go" "$TMP/gdb.end"
wait "$wl"; is "$?" 0 "the process goes on and exits 0"

# ---- the process is killed while its memory is read (512 MiB of roots take a while) ----
mkdir "$TMP/big"
"$WL/leak_kinds" --big 512 "$TMP/big/go" "$TMP/big/ready" &
wl=$!
sleep 0.2
"$MEMTRACE" --leak-check -v -p "$wl" --no-live -o "$TMP/big.txt" --json "$TMP/big.json" 2>"$TMP/big.err" &
mt=$!
wait_tracing "$TMP/big.err" || bail "memtrace -p did not start tracing"
ready "$TMP/big"
kill -TERM "$mt"
for _ in $(seq 400); do grep -q 'threads stopped, .* blocks to judge' "$TMP/big.err" && break; sleep 0.005; done
kill -KILL "$wl"
wait "$mt"
rc=$?
is "$rc" 1 "killed during the scan: memtrace exits 1, no crash"
grep -Eq "no leak check of pid $wl: .*(killed|ended) during the leak check" "$TMP/big.err"
ok $? "and says so in one line ($(grep 'no leak check' "$TMP/big.err"))"
wait "$wl" 2>/dev/null

# ---- a thread that cannot be stopped: a vfork parent waits for its child, killable only ----
"$WL/vfork_wait" 15 "$TMP/vf.ready" &
wl=$!
"$MEMTRACE" --leak-check -p "$wl" --no-live -o "$TMP/vf.txt" 2>"$TMP/vf.err" &
mt=$!
wait_tracing "$TMP/vf.err" || bail "memtrace -p did not start tracing"
[ -e "$TMP/vf.ready" ]; ok $? "vfork_wait's thread waits for its vfork child"
t0=$SECONDS
kill -TERM "$mt"; wait "$mt"
is "$?" 1 "a thread that does not stop: memtrace exits 1"
[ $((SECONDS - t0)) -le 8 ]; ok $? "after the 2 s it waits for a stop, not the child's 15 s ($((SECONDS - t0)) s)"
grep -q "no leak check of pid $wl: thread [0-9]* of pid $wl did not stop in time (in an uninterruptible sleep? see State in /proc/$wl/task/[0-9]*/status)" "$TMP/vf.err"
ok $? "and says which thread and where to look ($(grep 'no leak check' "$TMP/vf.err"))"
wait "$wl"; is "$?" 0 "the process goes on, and exits 0 when the child is done"

# ---- another allocator: its free lists are unknown, so its heap cannot be told from its blocks ----
need_deb libjemalloc2
LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 "$MEMTRACE" --leak-check --no-live -o "$TMP/je.txt" \
	-- "$WL/leaky" >/dev/null 2>"$TMP/je.err"
is "$?" 1 "jemalloc: no leak check, exit 1"
grep -q "^memtrace: no leak check of pid [0-9]*: it allocates with jemalloc; memtrace's leak check knows glibc's heap only$" "$TMP/je.err"
ok $? "and one line says why ($(cat "$TMP/je.err"))"
grep -q "^leak check: not done: it allocates with jemalloc" "$TMP/je.txt"; ok $? "the report says so too"

# ---- nothing to check ----
"$MEMTRACE" --leak-check >/dev/null 2>"$TMP/none.err"
is "$?" 2 "--leak-check alone: exit 2"
is "$(grep -c . "$TMP/none.err")" 2 "one line saying what to give, and the usual hint ($(head -1 "$TMP/none.err"))"
grep -q -- '--leak-check needs a process' "$TMP/none.err"; ok $? "it names --leak-check"
for bad in "-a" "-f -p 1" "--sample-bytes 64K -- true"; do
	"$MEMTRACE" --leak-check $bad >/dev/null 2>"$TMP/bad.err"
	is "$?" 2 "--leak-check $bad: refused, exit 2 ($(head -1 "$TMP/bad.err"))"
done
done_testing
