#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A real Prometheus server scrapes memtrace --metrics every second while three processes hold
# known heap bytes; PromQL queries must return exactly those bytes, with the smallest process
# summed under pid="other" (--metrics-top 2); go tool pprof fetches a heap profile beside it.
source "$(dirname "$0")/../lib/metrics.sh"
need_root
need_pkg prometheus prometheus
need_pkg curl curl
need_pkg jq jq

RELEASE=("$TMP/stop")

# Three holders of 30, 20 and 10 blocks of 1000 B, started before the trace, leaking after it.
for n in 30 20 10; do
	"$WL/hold" "$n" "$TMP/go" "$TMP/stop" >"$TMP/hold$n.out" &
	PIDS+=($!)
done
A=${PIDS[0]} B=${PIDS[1]} C=${PIDS[2]}

listen "$TMP/mt.err" -p "$A,$B,$C" --metrics-top 2
PIDS+=("$MT")
touch "$TMP/go"
ok "$(wait_for 30 grep -qs held "$TMP/hold10.out"; echo $?)" "the holders allocated"

# A client that connects and never sends must not hold up the next scrape.
exec 3<>"/dev/tcp/127.0.0.1/$MPORT"
body=$(curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics")
ok $? "a scrape is answered while a silent client holds a connection"
grep -q "^memtrace_heap_outstanding_bytes{pid=\"$A\",comm=\"hold\"[,}].* 30000$" <<<"$body"
ok $? "curl sees $A's 30000 B"
exec 3>&-
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nope")
is "$code" 404 "other paths are 404"

cat >"$TMP/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: memtrace
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
CFG
prom_ready() { curl -sf "http://127.0.0.1:$PPORT/-/ready" -o /dev/null; }
prom_ready_or_gone() { prom_ready || ! kill -0 "$PROM" 2>/dev/null; }	# no minute's wait on a dead one
# A port someone else holds makes prometheus exit at once: try another. Any other end is a failure.
for try in 1 2 3 4 5; do
	PPORT=$(port)
	/usr/bin/prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
		--web.listen-address="127.0.0.1:$PPORT" >"$TMP/prom.log" 2>&1 &
	PROM=$!
	wait_for 60 prom_ready_or_gone
	prom_ready && break
	kill "$PROM" 2>/dev/null
	wait "$PROM" 2>/dev/null
	PROM=
	grep -q "address already in use" "$TMP/prom.log" || break
done
[ -n "$PROM" ] || { tail -5 "$TMP/prom.log" | sed 's/^/#   prometheus: /'; bail "prometheus starts and answers /-/ready"; }
PIDS+=("$PROM")

value() {	# value PROMQL: the first sample's value, or "none"
	curl -s --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // "none"' 2>/dev/null || echo error
}

value_is() { [ "$(value "$1")" = "$2" ]; }	# value_is PROMQL WANT: one query, now

query_is() {	# query_is PROMQL WANT DESC: polls until Prometheus has scraped the value
	local q=$1 want=$2 got
	shift 2
	# Each poll queries again (a "test" of one value read before the poll would wait out the
	# whole minute whenever the first read came before the first scrape).
	wait_for 60 value_is "$q" "$want"
	got=$(value "$q")
	is "$got" "$want" "$* ($q)"
}

query_is 'up{job="memtrace"}' 1 "Prometheus scrapes memtrace"
query_is "memtrace_heap_outstanding_bytes{pid=\"$A\",comm=\"hold\"}" 30000 "30 blocks held by $A"
query_is "memtrace_heap_outstanding_bytes{pid=\"$B\"}" 20000 "20 blocks held by $B"
query_is 'memtrace_heap_outstanding_bytes{pid="other"}' 10000 "the third holder is summed as other"
query_is "count(memtrace_heap_outstanding_bytes{pid=\"$C\"})" none "no series of its own"
query_is "memtrace_heap_outstanding_blocks{pid=\"$A\"}" 30 "$A's blocks"
query_is "memtrace_heap_allocations_total{pid=\"$A\"}" 32 "$A's allocations"
query_is "memtrace_heap_allocated_bytes_total{pid=\"$A\"}" 32000 "$A's allocated bytes"
query_is 'sum(memtrace_heap_frees_total)' 6 "two frees per holder"
query_is 'sum(memtrace_heap_outstanding_bytes)' 60000 "all held bytes"
query_is "count(memtrace_rss_bytes{pid=\"$A\"} > 100000)" 1 "$A's RSS is reported"
query_is 'memtrace_processes' 3 "three processes traced"
query_is 'sum(memtrace_lost_events_total)' 0 "no events lost"
query_is "count(memtrace_heap_outstanding_bytes{pid=\"$A\",exe=\"$(readlink -f "$WL/hold")\"})" 1 \
	"$A's series carry its program's path (exe)"

# A profile scraper beside Prometheus: go tool pprof fetches one holder's heap profile.
need_pprof
pprof -top -nodefraction=0 -sample_index=inuse_space -unit=B \
	"http://127.0.0.1:$MPORT/debug/pprof/heap?pid=$A" >"$TMP/top.txt"
top_has 30000B hold_blocks <"$TMP/top.txt"
st=$?
ok $st "go tool pprof fetches $A's heap profile while Prometheus scrapes: hold_blocks holds 30000B"
[ $st -eq 0 ] || sed 's/^/#   /' "$TMP/top.txt"
query_is 'up{job="memtrace"}' 1 "Prometheus still scrapes memtrace after the profile"

touch "$TMP/stop"
wait "$MT"
is $? 0 "memtrace ends cleanly when the holders exit"
done_testing
