#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A snapshot at OOM kill, for real: oom_grow runs in a memory cgroup limited to 48 MiB and grows
# by 1 MiB blocks in grow_until_killed() until the kernel's OOM killer chooses it. memtrace -p
# sees oom:mark_victim before the victim is reaped: the "at OOM kill" section (text and JSON) and
# DIR/oom-<pid>-<time>.pb.gz hold exactly the blocks it said it held, by grow_until_killed, and
# the cgroup's limit. cgroup v2's memory.max where v2 has the memory controller; on a hybrid
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
	G=$V2/mt-oom-$$ MAXFILE=memory.max SWAPFILE=memory.swap.max
elif [ -n "$V1" ] && [ -w "$V1" ]; then
	echo "# cgroup v2 has no memory controller here (it is bound to v1 at $V1): using v1's limit"
	G=$V1/mt-oom-$$ MAXFILE=memory.limit_in_bytes SWAPFILE=memory.memsw.limit_in_bytes
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
# Without swap the limit is the memory it may use: the kill comes soon, and the same way.
[ -e "$G/$SWAPFILE" ] && { echo "$LIMIT" >"$G/$SWAPFILE" 2>/dev/null || echo 0 >"$G/$SWAPFILE"; } 2>/dev/null

sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$G" "$WL/oom_grow" "$TMP/go" "$BLOCK" >"$TMP/count" &
W=$!
VICTIM=$W
mkdir "$TMP/pp"
"$MEMTRACE" -p "$W" --no-live --pprof-dir "$TMP/pp" --json "$TMP/r.json" -o "$TMP/report.txt" \
	2>"$TMP/mt.err" &
MT=$!
wait_tracing "$TMP/mt.err" 30 || { sed 's/^/#   memtrace: /' "$TMP/mt.err"; bail "memtrace -p $W traces"; }
grep -q "OOM kills unseen" "$TMP/mt.err" &&
	bail "this kernel has no oom:mark_victim tracepoint: $(grep 'OOM kills' "$TMP/mt.err")"

touch "$TMP/go"
timeout 60 tail --pid="$W" -f /dev/null
wait "$W"
is $? 137 "oom_grow is killed by SIGKILL"
W=
timeout 30 tail --pid="$MT" -f /dev/null
wait "$MT"
is $? 0 "memtrace ends cleanly when its process is killed"
MT=
N=$(tail -1 "$TMP/count")
HELD=$((N * BLOCK))
echo "# oom_grow said it held $N blocks of $BLOCK B: $HELD B, under a limit of $LIMIT B"
[ "$N" -gt 8 ] 2>/dev/null
ok $? "it grew ($N blocks) before the kill"

grep -q "pid [0-9]* (oom_grow) chosen by the OOM killer: it held" "$TMP/mt.err"
ok $? "memtrace says at once that the OOM killer chose it"
grep '^at OOM kill' "$TMP/report.txt" | sed 's/^/#   /'
grep -q "^at OOM kill: .*memory limit 48.0 MiB" "$TMP/report.txt"
ok $? "the text report has an \"at OOM kill\" section with the cgroup's 48 MiB limit"
grep -q "^  at OOM kill: $N.0 MiB heap in $N blocks by grow_until_killed" "$TMP/report.txt"
ok $? "its first stack: $N MiB in $N blocks by grow_until_killed"

at_kill() { jpy "$1" "$TMP/r.json"; }
O="[p for p in d['processes'] if p['pid'] == $VICTIM][0]['oom_kill']"
is "$(at_kill "sum(s['outstanding_bytes'] for s in $O['stacks'] if s['frames'][s['site']]['function'] == 'grow_until_killed')")" \
	"$HELD" "JSON oom_kill: grow_until_killed held exactly $HELD B"
is "$(at_kill "$O['memory_limit_bytes']")" "$LIMIT" "JSON oom_kill: the memory limit"
RSS=$(at_kill "$O['rss_bytes']")
echo "# rss at the kill: $RSS B ($(at_kill "$O['rss_sampled']") sampled)"
[ "${RSS:-0}" -ge $((HELD - BLOCK)) ] && [ "$RSS" -le $((LIMIT + (8 << 20))) ]
ok $? "JSON oom_kill: the rss ($RSS B) is within a block of what it held, and near the limit"

PB=$(ls "$TMP/pp"/oom-"$VICTIM"-*.pb.gz 2>/dev/null | head -1)
nonempty "$PB"
ok $? "--pprof-dir has oom-$VICTIM-<time>.pb.gz"
pprof -top -nodefraction=0 -sample_index=inuse_space -unit=B "$PB" >"$TMP/top.txt"
top_has "${HELD}B" grow_until_killed <"$TMP/top.txt"
st=$?
ok $st "go tool pprof reads it: grow_until_killed holds ${HELD}B"
[ $st -eq 0 ] || sed 's/^/#   /' "$TMP/top.txt" | head -20
done_testing
