#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# memtrace -a: workloads started after memtrace are seen with exact per-process totals; --comm,
# --cgroup and --min-bytes choose what is reported; thousands of short-lived processes do not
# grow memtrace's memory without bound.
source "$(dirname "$0")/../lib/tap.sh"
need_root

start() {	# name args...: memtrace -a in the background, waiting until its probes are in
	local name=$1; shift
	"$MEMTRACE" -a "$@" --json "$TMP/$name.json" -o "$TMP/$name.txt" 2>"$TMP/$name.err" &
	mt=$!
	for _ in $(seq 300); do grep -q 'tracing all' "$TMP/$name.err" && return 0; sleep 0.05; done
	return 1
}
stop() { kill -INT "$mt"; timeout 60 tail --pid="$mt" -f /dev/null; wait "$mt"; }

# Copies under names of their own: other tests running on this machine at the same time (a
# developer's parallel runs) must not match --comm.
LK=lk$$ CX=cx$$
cp "$WL/leaky" "$TMP/$LK" && cp "$WL/cxx_leaky" "$TMP/$CX" || { echo "Bail out! cannot copy the workloads"; exit 1; }

# Exact totals need every event read: on a busy shared machine a whole-machine trace can lag
# behind by seconds, so the exact checks filter by name in BPF (the probes still fire everywhere).
# --min-bytes 10K here too: both leakies (66184 B each) must stay in the report (checked below).
start all --min-bytes 10K --comm $LK; ok $? "-a starts and announces itself"
"$TMP/$LK" >"$TMP/o1" & p1=$!
"$TMP/$LK" 0 >"$TMP/o2" & p2=$!
wait "$p1" "$p2"
sleep 0.3
stop
is "$?" 0 "-a ends cleanly on SIGINT with status 0"
held() { jpy "[(p['comm'], p['summary']['outstanding_bytes'], p['summary']['unknown_frees']) for p in d['processes'] if p['pid'] == $1]" "$TMP/$2.json"; }
# leaky: 66184 B as in core_leaky (stdout to a file: one 4 KiB buffer).
is "$(held "$p1" all)" "[('$LK', 66184, 0)]" "a leaky started after memtrace: exact total, every free matched" ||
	{ echo "# losses: $(jpy "{k: v for k, v in d['lost_events_by_reason'].items() if v}" "$TMP/all.json")"; sed 's/^/# stderr: /' "$TMP/all.err"; }
is "$(held "$p2" all)" "[('$LK', 66184, 0)]" "a second one, told apart by pid: exact total"
is "$(jpy "[p['cmdline'] for p in d['processes'] if p['pid'] == $p1]" "$TMP/all.json")" "['$TMP/$LK']" "its command line"
grep -q "^ *$p1 $LK .*$TMP/$LK (exited)" "$TMP/all.txt"; ok $? "text report: per-process totals first"
is "$(python3 tests/lib/site.py "$TMP/all.json" | grep -c '^leak_malloc 20000 20$')" 1 "stacks of both, symbolized after they exited"
# Page faults with -a: per-CPU events, kept for the traced processes only (--comm here).
is "$(jpy "[(r['minor_faults'] > 0, any(s['frames'] and s['frames'][0]['function'] for s in r['stacks'])) for r in [p['resident'] for p in d['processes'] if p['pid'] == $p1]]" "$TMP/all.json")" \
	"[(True, True)]" "-a traces page faults: a leaky's counted, their stacks named"
is "$(jpy "sorted(set(p['comm'] for p in d['processes']))" "$TMP/all.json")" "['$LK']" "and no process outside --comm shows up for its faults"

# A process that has ended before memtrace reads its first event (memtrace is stopped meanwhile,
# as a busy machine can delay it): /proc/PID/maps is gone, so its stacks are named from the code
# mappings the kernel reports as it exits. And memtrace is told to stop before it reads anything:
# everything already sent is read all the same.
start gone --comm $LK
kill -STOP "$mt"
"$TMP/$LK" 0 "two words" >/dev/null & pg=$!
wait "$pg"
kill -INT "$mt"
kill -CONT "$mt"
timeout 60 tail --pid="$mt" -f /dev/null; wait "$mt"
is "$(held "$pg" gone)" "[('$LK', 66184, 0)]" "stopped before its first read: every event read, exact total"
sites=$(python3 tests/lib/site.py "$TMP/gone.json")
echo "$sites" | sed 's/^/# /'
# /proc/PID/cmdline was gone too: the command line came with its exec (every kernel).
is "$(jpy "[p['cmdline'] for p in d['processes']]" "$TMP/gone.json")" "['$TMP/$LK 0 two words']" \
	"its command line, as it was started"
# Its mappings come with its exit where the kernel lets BPF read them there (memtrace check).
exitmaps=$("$MEMTRACE" check | awk '$1 == "exit" && $2 == "mappings" { print $3 }')
if [ "$exitmaps" = yes ]; then
	echo "$sites" | grep -qx 'leak_malloc 10000 10'; ok $? "a process gone before memtrace read its first event: its stacks symbolized all the same"
	[ -n "$sites" ] && ! grep -q '^?' <<<"$sites"; ok $? "no call site left unnamed"
	# Its file faults were read after /proc/PID/maps was gone too: named from the exit's
	# mappings (a file unmapped before the exit, as ld.so.cache, stays "[unknown file]").
	is "$(jpy "[any(f['path'].endswith('/libc.so.6') and f['minor_faults'] > 0 for f in p['resident']['files']) for p in d['processes']]" "$TMP/gone.json")" \
		"[True]" "and its file faults are filed under the files it had mapped (libc.so.6)"
elif [ "$exitmaps" = no ]; then
	is "$sites" "? 66184 31" "kernel $(uname -r), no exit mappings (memtrace check): its stacks unnamed, its bytes exact"
	is "$(jpy "[any(f['path'].endswith('/libc.so.6') for f in p['resident']['files']) for p in d['processes']]" "$TMP/gone.json")" \
		"[False]" "and its file faults under no file it had mapped"
else
	bail "memtrace check did not say whether this kernel sends exit mappings"
fi

# A command line longer than an exec event carries (2032 bytes), of a process gone before it was
# read: its first 2032 bytes.
long=$(printf 'x%.0s' $(seq 3000))
start cut --comm $LK
kill -STOP "$mt"
"$TMP/$LK" 0 "$long" >/dev/null
kill -CONT "$mt"
stop
want="$TMP/$LK 0 $long"
is "$(jpy "[p['cmdline'] for p in d['processes']]" "$TMP/cut.json")" "['${want:0:2032}']" \
	"a longer command line: its first 2032 bytes"

# --comm: only processes of that name.
start comm --comm $CX
"$TMP/$LK" >/dev/null; "$TMP/$CX" >/dev/null
stop
is "$(jpy "sorted(set(p['comm'] for p in d['processes']))" "$TMP/comm.json")" "['$CX']" "--comm: only $CX"
is "$(jpy "d['summary']['outstanding_bytes']" "$TMP/comm.json")" 95756 "--comm: its exact bytes"

# --min-bytes: leaky (66184 B) kept at 10K (the first trace above), hidden at 100K.
is "$(jpy "len(d['processes'])" "$TMP/all.json")" 2 "--min-bytes 10K keeps both leakies (66184 B each)"
start min2 --min-bytes 100K --comm $LK
"$TMP/$LK" >/dev/null
stop
is "$(jpy "len(d['processes']), d['summary']['outstanding_bytes']" "$TMP/min2.json")" "0 66184" \
	"--min-bytes 100K hides it, its bytes stay in the total"

# --cgroup: only the process put into a fresh cgroup v2.
root=/sys/fs/cgroup; [ -e $root/cgroup.controllers ] || root=/sys/fs/cgroup/unified
cg=$root/memtrace-test-$$
if mkdir "$cg" 2>"$TMP/mkdir.err"; then
	start cg --cgroup "memtrace-test-$$"
	"$TMP/$LK" >/dev/null
	sh -c "echo \$\$ > $cg/cgroup.procs && exec $WL/tiny"
	sleep 0.3
	stop
	rmdir "$cg"
	is "$(jpy "[(p['comm'], p['summary']['outstanding_bytes']) for p in d['processes']]" "$TMP/cg.json")" "[('tiny', 3000)]" \
		"--cgroup: only the process in that cgroup, exactly, named after its exec (sh's part dropped)"
else
	skip "cannot create a cgroup v2 under $root: $(cat "$TMP/mkdir.err")"
fi

# Bounded memory: 2000 short-lived processes, far past the 256 ended ones kept. memtrace's resident
# size after 2000 is close to its size after 500 (unbounded, each ended process would keep ~10 KB:
# +15 MB).
rss() { awk '/^VmRSS/ {print $2}' "/proc/$mt/status"; }
start bound --comm tiny
for _ in $(seq 500); do "$WL/tiny"; done
sleep 1; r1=$(rss)
for _ in $(seq 1500); do "$WL/tiny"; done
sleep 1; r2=$(rss)
stop
echo "# memtrace VmRSS after 500 processes: $r1 KiB, after 2000: $r2 KiB"
# (No VmRSS read means memtrace was gone: a failure, not a growth of 0.)
[ -n "$r1" ] && [ -n "$r2" ] && [ $((r2 - r1)) -lt 4096 ]
ok $? "2000 short-lived processes: memtrace grew by $((${r2:-0} - ${r1:-0})) KiB (< 4 MiB) after the first 500"
is "$(jpy "d['summary']['allocations'] >= 6000 and d['summary']['lost_events'] == 0" "$TMP/bound.json")" True \
	"every process's allocations counted in the totals, none lost"
is "$(jpy "len(d['processes']) <= 256" "$TMP/bound.json")" True "at most 256 ended processes kept in the report"
grep -q "ended processes left out to bound memory" "$TMP/bound.err"; ok $? "the report says processes were left out"
is "$(jpy "set(p['summary']['outstanding_bytes'] for p in d['processes'])" "$TMP/bound.json")" "{3000}" \
	"the ones kept have their exact 3000 B"
done_testing
