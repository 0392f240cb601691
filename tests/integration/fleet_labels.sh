#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Labels fleets group by: two holders in two cgroup v2 groups, one named as systemd names a
# Docker container (docker-<64 hex>.scope) and started with OTEL_SERVICE_NAME=checkout. Each
# metric series and each pprof sample carries its own process's exe, cgroup, container_id and
# service_name (go tool pprof's -tagfocus picks each out), and so does the JSON report.
source "$(dirname "$0")/../lib/metrics.sh"
need_root
need_pkg curl curl
need_pprof

CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG" ] && [ -w "$CG" ] || skip_all "no writable cgroup v2 file system mounted (see /proc/mounts)"
# What a container id looks like: 64 hex digits, some of them letters (go tool pprof's -tagfocus
# takes a value of digits alone for a number, not a label's text).
ID=$(printf 'c0ffee%058x' $$)
GROUP=/mt-labels-$$
WEB=$GROUP/web DOCKER=$GROUP/docker-$ID.scope

RELEASE=("$TMP/stop")
cleanup() {
	end_all
	rmdir "$CG$WEB" "$CG$DOCKER" "$CG$GROUP" 2>/dev/null
}
trap cleanup EXIT
mkdir -p "$CG$WEB" "$CG$DOCKER" || bail "create cgroups under $CG"

# in_group GROUP CMD...: run in the background, CMD as a process of GROUP (the shell moves
# itself, then execs: $! is the process).
in_group() {
	local g=$1
	shift
	exec sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG$g" "$@"
}
in_group "$WEB" "$WL/hold" 30 "$TMP/go" "$TMP/stop" >"$TMP/web.out" &
A=$!
OTEL_SERVICE_NAME=checkout in_group "$DOCKER" "$WL/hold" 20 "$TMP/go" "$TMP/stop" >"$TMP/docker.out" &
B=$!
PIDS+=("$A" "$B")
wait_for 10 grep -q "^0::$DOCKER\$" "/proc/$B/cgroup"
is "$(grep '^0::' "/proc/$A/cgroup"):$(grep '^0::' "/proc/$B/cgroup")" "0::$WEB:0::$DOCKER" \
	"the holders run in their groups"
listen "$TMP/mt.err" -p "$A,$B" --no-live --json "$TMP/report.json"
PIDS+=("$MT")
touch "$TMP/go"
ok "$(wait_for 30 grep -qs held "$TMP/docker.out"; echo $?)" "the holders allocated"
EXE=$(readlink -f "$WL/hold")

curl -sS --max-time 10 -o "$TMP/metrics.txt" "http://127.0.0.1:$MPORT/metrics"
grep -qxF "memtrace_heap_outstanding_bytes{pid=\"$A\",comm=\"hold\",exe=\"$EXE\",cgroup=\"$WEB\"} 30000" \
	"$TMP/metrics.txt"
ok $? "$A's series: pid, comm, exe, cgroup; no container, no service"
grep -qxF "memtrace_heap_outstanding_bytes{pid=\"$B\",comm=\"hold\",exe=\"$EXE\",cgroup=\"$DOCKER\",container_id=\"$ID\",service_name=\"checkout\"} 20000" \
	"$TMP/metrics.txt"
ok $? "$B's series: its container id from the cgroup path, service_name=checkout"
[ $? -eq 0 ] || grep '^memtrace_heap_outstanding_bytes' "$TMP/metrics.txt" | sed 's/^/#   /'

URL="http://127.0.0.1:$MPORT/debug/pprof/heap"
pprof -raw "$URL" >"$TMP/raw.txt"
grep -qF "service_name:[checkout]" "$TMP/raw.txt" && grep -qF "container_id:[$ID]" "$TMP/raw.txt"
ok $? "the profile's samples carry service_name and container_id labels"
# topfocus TAGFOCUS: hold_blocks's inuse bytes among the samples whose labels match.
topfocus() {
	pprof -top -nodefraction=0 -sample_index=inuse_space -unit=B -tagfocus="$1" "$TMP/heap.pb.gz" |
		awk '$NF == "hold_blocks" { print $1 }'
}
curl -sS --max-time 10 -o "$TMP/heap.pb.gz" "$URL"
is "$(topfocus service_name=checkout)" 20000B "-tagfocus service_name=checkout: $B's 20000 B alone"
is "$(topfocus "container_id=$ID")" 20000B "-tagfocus container_id: $B's 20000 B alone"
is "$(topfocus "cgroup=$WEB")" 30000B "-tagfocus cgroup=$WEB: $A's 30000 B alone"
is "$(topfocus "exe=$EXE")" 50000B "-tagfocus exe: both processes run hold"

touch "$TMP/stop"
wait "$MT"
is $? 0 "memtrace ends cleanly when the holders exit"
is "$(jpy "[p['labels'] for p in sorted(d['processes'], key=lambda p: p['pid']) if p['pid'] == $B][0]" "$TMP/report.json")" \
	"{'exe': '$EXE', 'cgroup': '$DOCKER', 'container_id': '$ID', 'service_name': 'checkout'}" \
	"the JSON report has $B's labels"
is "$(jpy "[p['labels']['service_name'] for p in d['processes'] if p['pid'] == $A][0]" "$TMP/report.json")" \
	None "and no service_name for $A"
done_testing
