#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# ?seconds=N, as Go's net/http/pprof: the difference between the heap now and N seconds later.
# tests/workloads/window.c allocates 20 x 1000 B before the window and, started by a file
# once the window is open, 50 x 2000 B of which it frees 10: the delta holds exactly those 50
# allocations (100000 B, 40 held, 80000 B) and nothing of before_window. While it waits, the
# listener answers other scrapes at once; go tool pprof -seconds fetches a delta of its own.
source "$(dirname "$0")/../lib/metrics.sh"
need_root
need_pkg curl curl
need_pprof

RELEASE=("$TMP/go1" "$TMP/go2" "$TMP/stop")

"$WL/window" "$TMP/go1" "$TMP/go2" "$TMP/stop" >"$TMP/window.out" &
W=$!
PIDS+=("$W")
listen "$TMP/mt.err" -p "$W" --no-live
PIDS+=("$MT")
touch "$TMP/go1"
ok "$(wait_for 30 grep -qs before "$TMP/window.out"; echo $?)" "before_window allocated, before the delta"

# The delta's request is written whole before a second request is made; once that second one
# is answered, the listener has read the first and taken its start (connections are accepted
# and read in the order they came), so the window opens after the delta began.
exec 3<>"/dev/tcp/127.0.0.1/$MPORT"
printf 'GET /debug/pprof/heap?pid=%s&seconds=2 HTTP/1.0\r\n\r\n' "$W" >&3
t0=$(date +%s%3N)
curl -sS --max-time 5 -o "$TMP/metrics.txt" "http://127.0.0.1:$MPORT/metrics"
ok $? "/metrics is answered while the delta waits"
took=$(($(date +%s%3N) - t0))
ok $((took >= 1500)) "at once, not after the delta's 2 seconds (${took} ms)"
curl -sS --max-time 5 -o "$TMP/now.pb.gz" "http://127.0.0.1:$MPORT/debug/pprof/heap?pid=$W"
ok $? "another profile is made while the delta waits"
touch "$TMP/go2"
ok "$(wait_for 10 grep -qs window "$TMP/window.out"; echo $?)" "in_window allocated, inside the window"
timeout 20 cat <&3 >"$TMP/delta.http"
exec 3<&-
took=$(($(date +%s%3N) - t0))
ok $((took < 2000)) "the delta is answered after its 2 seconds (${took} ms)"
python3 -c "import sys
d = open(sys.argv[1], 'rb').read()
head, _, body = d.partition(b'\r\n\r\n')
sys.stdout.buffer.write(body)
sys.exit(not head.startswith(b'HTTP/1.0 200'))" "$TMP/delta.http" >"$TMP/delta.pb.gz"
ok $? "the delta's answer is 200 OK"
grep -qa 'filename="heap-delta"' "$TMP/delta.http"
ok $? "and offered as heap-delta, as Go names it"

pprof -raw "$TMP/delta.pb.gz" >"$TMP/raw.txt"
is "$(grep -cE '^ +-?[0-9]+ +-?[0-9]+ +-?[0-9]+ +-?[0-9]+:' "$TMP/raw.txt")" 1 \
	"one sample: the stack that changed in the window"
grep -qE '^ +50 +100000 +40 +80000:' "$TMP/raw.txt"
ok $? "exactly what the window made: 50 allocations, 100000 B, 40 held, 80000 B"
pprof -top -nodefraction=0 -sample_index=alloc_space -unit=B "$TMP/delta.pb.gz" >"$TMP/top.txt"
top_has 100000B in_window <"$TMP/top.txt"
ok $? "and it is in_window's"
grep -q before_window "$TMP/top.txt"
ok $((!$?)) "before_window, allocated before the window, is not in it"
awk '/^Duration: / { d = $2 + 0; found = d >= 2 && d < 4 } END { exit !found }' "$TMP/raw.txt"
ok $? "its duration is the window's 2 seconds and the turn it was made in ($(grep -m1 '^Duration' "$TMP/raw.txt"))"

# go tool pprof's own -seconds: nothing is allocated meanwhile, so its delta holds no sample.
pprof -seconds 1 -raw "http://127.0.0.1:$MPORT/debug/pprof/allocs?pid=$W" >"$TMP/raw1.txt"
grep -q '^Samples:' "$TMP/raw1.txt"
ok $? "go tool pprof -seconds 1 fetches a delta profile"
is "$(grep -cE '^ +-?[0-9]+ +-?[0-9]+ +-?[0-9]+ +-?[0-9]+:' "$TMP/raw1.txt")" 0 \
	"with no sample: nothing changed in that second"

touch "$TMP/stop"
wait "$MT"
is $? 0 "memtrace ends cleanly when the workload exits"
done_testing
