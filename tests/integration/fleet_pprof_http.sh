#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The pprof endpoints on the --metrics listener, read by Debian's go tool pprof while two holders
# keep 30 and 10 blocks of 1000 B: /debug/pprof/heap?pid=N has exactly the one process's bytes,
# /debug/pprof/allocs shows alloc_space first, /debug/pprof/ lists both; every bad request gets
# its status and one line, and memtrace goes on tracing.
source "$(dirname "$0")/../lib/metrics.sh"
need_root
need_pkg curl curl
need_pprof

RELEASE=("$TMP/stop")

for n in 30 10; do
	"$WL/hold" "$n" "$TMP/go" "$TMP/stop" >"$TMP/hold$n.out" &
	PIDS+=($!)
done
A=${PIDS[0]} B=${PIDS[1]}
listen "$TMP/mt.err" -p "$A,$B" --no-live
PIDS+=("$MT")
touch "$TMP/go"
ok "$(wait_for 30 grep -qs held "$TMP/hold10.out"; echo $?)" "the holders allocated"
URL=http://127.0.0.1:$MPORT

# check_top DESC WANT FUNCTION PPROF-ARGS...: go tool pprof -top shows FUNCTION's flat value WANT.
check_top() {
	local desc=$1 want=$2 fn=$3 st
	shift 3
	pprof -top -nodefraction=0 "$@" >"$TMP/top.txt"
	top_has "$want" "$fn" <"$TMP/top.txt"
	st=$?
	ok $st "$desc"
	[ $st -eq 0 ] || sed 's/^/#   /' "$TMP/top.txt" | head -20
}

check_top "heap?pid=$A: hold_blocks holds exactly 30000B" 30000B hold_blocks \
	-sample_index=inuse_space -unit=B "$URL/debug/pprof/heap?pid=$A"
grep -q '^Type: inuse_space$' "$TMP/top.txt"
ok $? "heap shows inuse_space first, as Go's does"
check_top "heap?pid=$A: hold_blocks made exactly 32 allocations" 32 hold_blocks \
	-sample_index=alloc_objects "$URL/debug/pprof/heap?pid=$A"
pprof -raw "$URL/debug/pprof/heap?pid=$A" >"$TMP/raw.txt"
is "$(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+:' "$TMP/raw.txt")" 1 "heap?pid=$A: one sample, $A's only"
grep -qE '^ +32 +32000 +30 +30000:' "$TMP/raw.txt"
ok $? "its four values: 32 allocations, 32000 B, 30 held, 30000 B"
grep -q "pid:\[$A\]" "$TMP/raw.txt"
ok $? "the sample is labelled pid $A"
check_top "heap of every process: hold_blocks holds 40000B" 40000B hold_blocks \
	-sample_index=inuse_space -unit=B "$URL/debug/pprof/heap"
check_top "allocs?pid=$B: alloc_space first, hold_blocks allocated 12000B" 12000B hold_blocks \
	-unit=B "$URL/debug/pprof/allocs?pid=$B"
grep -q '^Type: alloc_space$' "$TMP/top.txt"
ok $? "allocs shows alloc_space first, as Go's does"

index=$(curl -sS --max-time 10 "$URL/debug/pprof/")
grep -q "href='heap'" <<<"$index" && grep -q "href='allocs'" <<<"$index" && grep -q "heap?pid=$A'" <<<"$index"
ok $? "/debug/pprof/ lists heap, allocs and each process"

# answer PATH [CURL-ARGS...]: "status lines-of-body first-line", e.g. "404 1 no traced process..."
answer() {
	local path=$1 code
	shift
	code=$(curl -sS --max-time 10 -o "$TMP/body" -w '%{http_code}' "$@" "$URL$path")
	echo "$code $(wc -l <"$TMP/body") $(head -1 "$TMP/body")"
}
is "$(answer '/debug/pprof/heap?pid=1')" "404 1 no traced process has pid 1" "an untraced pid: 404 and one line"
is "$(answer '/debug/pprof/heap?pid=x1')" '400 1 invalid value for "pid" - must be a process id' \
	"a pid that is no number: 400 and one line"
for bad in abc 0 -2 1.5 99999; do
	is "$(answer "/debug/pprof/heap?seconds=$bad" | cut -d' ' -f1,2)" "400 1" "seconds=$bad: 400 and one line"
done
grep -q 'invalid value for "seconds" - must be a positive integer' "$TMP/body"
ok $? "the line says what seconds must be"
is "$(answer /debug/pprof/goroutine | cut -d' ' -f1,2)" "404 1" "a profile memtrace does not make: 404 and one line"
is "$(answer /nope | cut -d' ' -f1,2)" "404 1" "a path that does not exist: 404 and one line"
is "$(answer /debug/pprof/heap -X POST | cut -d' ' -f1,2)" "405 1" "POST: 405 and one line"
pprof -raw "$URL/debug/pprof/heap?pid=1" >"$TMP/err.txt"
grep -q 'server response: 404 Not Found - no traced process has pid 1' "$TMP/err.txt"
ok $? "go tool pprof shows memtrace's reason for an untraced pid"
kill -0 "$MT" 2>/dev/null
ok $? "memtrace still runs after the bad requests"
check_top "and still answers: hold_blocks holds 30000B" 30000B hold_blocks \
	-sample_index=inuse_space -unit=B "$URL/debug/pprof/heap?pid=$A"

touch "$TMP/stop"
wait "$MT"
is $? 0 "memtrace ends cleanly when the holders exit"
done_testing
