#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A snapshot at OOM kill, for real: oom_grow runs in a memory cgroup limited to 48 MiB and grows
# by 1 MiB blocks in grow_until_killed() until the kernel's OOM killer chooses it. memtrace -p
# sees oom:mark_victim before the victim is reaped: the "at OOM kill" section (text and JSON) and
# DIR/oom-<pid>-<time>.pb.gz hold exactly the blocks it said it held, by grow_until_killed, and
# the cgroup's limit; then the same with -a (--comm oom_grow), which sees any process's kill.
# cgroup v2's memory.max where v2 has the memory controller; on a hybrid
# machine whose memory controller is v1's, memory.limit_in_bytes (the same kill, the same tracepoint).
source "$(dirname "$0")/../lib/metrics.sh"
need_root
need_pprof

BLOCK=$((1 << 20)) LIMIT=$((48 << 20))
V2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
V1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)
if [ -n "$V2" ] && grep -qw memory "$V2/cgroup.controllers" 2>/dev/null; then
	grep -qw memory "$V2/cgroup.subtree_control" || echo +memory >"$V2/cgroup.subtree_control" ||
		bail "enable the memory controller for $V2's children"
	G=$V2/mt-oom-$$ MAXFILE=memory.max SWAPFILE=memory.swap.max SWAP=0
elif [ -n "$V1" ] && [ -w "$V1" ]; then
	echo "# cgroup v2 has no memory controller here (it is bound to v1 at $V1): using v1's limit"
	G=$V1/mt-oom-$$ MAXFILE=memory.limit_in_bytes SWAPFILE=memory.memsw.limit_in_bytes SWAP=$LIMIT
else
	skip_all "no cgroup memory control: cgroup v2 lacks the memory controller and no writable v1 memory hierarchy"
fi

W= MT=
cleanup() {
	[ -n "$W" ] && kill -9 "$W" 2>/dev/null
	[ -n "$MT" ] && kill "$MT" 2>/dev/null
	wait 2>/dev/null
	rmdir "$G" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir "$G" && echo "$LIMIT" >"$G/$MAXFILE" || bail "create $G with a $LIMIT B limit"
# No swap beyond the limit (v2 counts swap apart: none; v1 counts both together: the same
# limit), so the kill comes soon and the same way on every machine.
[ -e "$G/$SWAPFILE" ] && echo "$SWAP" >"$G/$SWAPFILE"

# grow: oom_grow started in the group, growing once $TMP/go exists; sets W, its pid.
grow() {
	rm -f "$TMP/go"
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$G" "$WL/oom_grow" "$TMP/go" "$BLOCK" >"$TMP/count" &
	W=$!
}

# trace NAME MEMTRACE-ARGS...: memtrace in the background, its outputs under $TMP/NAME; sets MT.
trace() {
	local d=$TMP/$1
	shift
	mkdir -p "$d/pp"
	"$MEMTRACE" "$@" --no-live --pprof-dir "$d/pp" --json "$d/r.json" -o "$d/report.txt" 2>"$d/mt.err" &
	MT=$!
	for _ in $(seq 600); do grep -q "memtrace: tracing" "$d/mt.err" && break; sleep 0.1; done
	grep -q "memtrace: tracing" "$d/mt.err" || { sed 's/^/#   memtrace: /' "$d/mt.err"; bail "memtrace $* traces"; }
	grep -q "OOM kills unseen" "$d/mt.err" &&
		bail "this kernel has no oom:mark_victim tracepoint: $(grep 'OOM kills' "$d/mt.err")"
}

# kill_it: release oom_grow and wait for the kernel to kill it; sets VICTIM, N and HELD.
kill_it() {
	touch "$TMP/go"
	timeout 60 tail --pid="$W" -f /dev/null
	wait "$W"
	is $? 137 "oom_grow is killed by SIGKILL"
	VICTIM=$W W=
	N=$(tail -1 "$TMP/count")
	HELD=$((N * BLOCK))
	echo "# oom_grow said it held $N blocks of $BLOCK B: $HELD B, under a limit of $LIMIT B"
	[ "$N" -gt 8 ] 2>/dev/null
	ok $? "it grew ($N blocks) before the kill"
}

# snapshot NAME: what memtrace's outputs under $TMP/NAME say of VICTIM at its kill.
snapshot() {
	local d=$TMP/$1 o="[p for p in d['processes'] if p['pid'] == $VICTIM][0]['oom_kill']" rss pb st
	grep -q "pid $VICTIM (oom_grow) chosen by the OOM killer: it held $N.0 MiB of heap in $N blocks" "$d/mt.err"
	ok $? "$1: memtrace says at once that the OOM killer chose it, and what it held"
	grep 'at OOM kill' "$d/report.txt" | sed 's/^/#   /'
	grep -q "^at OOM kill: .*memory limit 48.0 MiB" "$d/report.txt"
	ok $? "$1: the text report has an \"at OOM kill\" section with the cgroup's 48 MiB limit"
	grep -q "^  at OOM kill: $N.0 MiB heap in $N blocks by grow_until_killed" "$d/report.txt"
	ok $? "$1: its first stack: $N MiB in $N blocks by grow_until_killed"
	is "$(jpy "sum(s['outstanding_bytes'] for s in $o['stacks'] if s['frames'][s['site']]['function'] == 'grow_until_killed')" "$d/r.json")" \
		"$HELD" "$1: JSON oom_kill: grow_until_killed held exactly $HELD B"
	is "$(jpy "$o['memory_limit_bytes']" "$d/r.json")" "$LIMIT" "$1: JSON oom_kill: the memory limit"
	rss=$(jpy "$o['rss_bytes']" "$d/r.json")
	echo "# rss at the kill: $rss B ($(jpy "$o['rss_sampled']" "$d/r.json") sampled)"
	[ "${rss:-0}" -ge $((HELD - BLOCK)) ] && [ "$rss" -le $((LIMIT + (8 << 20))) ]
	ok $? "$1: JSON oom_kill: the rss ($rss B) is within a block of what it held, and near the limit"
	pb=$(ls "$d/pp"/oom-"$VICTIM"-*.pb.gz 2>/dev/null | head -1)
	nonempty "$pb"
	ok $? "$1: --pprof-dir has oom-$VICTIM-<time>.pb.gz"
	pprof -top -nodefraction=0 -sample_index=inuse_space -unit=B "$pb" >"$d/top.txt"
	top_has "${HELD}B" grow_until_killed <"$d/top.txt"
	st=$?
	ok $st "$1: go tool pprof reads it: grow_until_killed holds ${HELD}B"
	[ $st -eq 0 ] || sed 's/^/#   /' "$d/top.txt" | head -20
}

# -p: the process is traced from before it grows; memtrace ends when it is killed.
grow
trace pid -p "$W"
kill_it
timeout 30 tail --pid="$MT" -f /dev/null
wait "$MT"
is $? 0 "memtrace -p ends cleanly when its process is killed"
MT=
snapshot pid

# -a: any process on the machine (--comm keeps the events to oom_grow's); ended by SIGINT.
trace all -a --comm oom_grow --no-faults
grow
kill_it
sleep 1
kill -INT "$MT"
wait "$MT"
is $? 0 "memtrace -a ends cleanly on SIGINT"
MT=
snapshot all
done_testing
