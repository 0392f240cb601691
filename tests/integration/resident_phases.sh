#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Memory that grows to a known peak, falls and grows again (tests/workloads/phases.c): the exact
# heap peak, its moment inside the growth phase, the stacks that held it, and RSS over time.
source "$(dirname "$0")/../lib/tap.sh"
need_root

"$MEMTRACE" --json "$TMP/r.json" -o "$TMP/report.txt" -- "$WL/phases" 300 >"$TMP/stdout"
is "$?" 0 "memtrace exits with the command's status"
at() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/stdout"; }
peak() { jpy "d['processes'][0]['peak']$1" "$TMP/r.json"; }

is "$(peak "['heap_bytes']")" 41943040 "peak heap is exactly 40 MiB (32 + 8 blocks of 1 MiB)"
ts=$(peak "['heap_ts_ns']")
[ "$ts" -ge "$(at grow_start)" ] && [ "$ts" -le "$(at peak_reached)" ]
ok $? "the peak's moment ($ts) is inside the growth phase [$(at grow_start), $(at peak_reached)]"
is "$(jpy "[s['frames'][s['site']]['function'] + ' ' + str(s['bytes']) + ' ' + str(s['allocations']) for s in d['processes'][0]['peak']['stacks_at_peak']]" "$TMP/r.json")" \
	"['grow_big 33554432 32', 'grow_extra 8388608 8']" "at the peak: grow_big held 32 MiB, grow_extra 8 MiB, nothing else"
is "$(peak "['stacks_at_peak'][0]['frames'][peak_site + 1]['function'] if (peak_site := d['processes'][0]['peak']['stacks_at_peak'][0]['site']) >= 0 else None")" \
	main "and the stack goes on to main"
is "$(python3 tests/lib/site.py "$TMP/r.json" heap | awk '$1 == "grow_again" { print $2, $3 }')" "10485760 10" \
	"at the end grow_again holds 10 MiB: the second, smaller level"
grep -q "at peak: 32.0 MiB heap by grow_big" "$TMP/report.txt"; ok $? "text report names the peak's stacks"

# RSS over time, from /proc/PID/status on each interval.
n=$(jpy "len(d['processes'][0]['timeline'])" "$TMP/r.json")
[ "$n" -ge 3 ]; ok $? "the timeline has samples ($n)"
is "$(jpy "all(a['ts_ns'] < b['ts_ns'] for a, b in zip(d['processes'][0]['timeline'], d['processes'][0]['timeline'][1:]))" "$TMP/r.json")" \
	True "samples are in time order"
is "$(jpy "max(x['heap_bytes'] for x in d['processes'][0]['timeline']) <= d['processes'][0]['peak']['heap_bytes']" "$TMP/r.json")" \
	True "no heap sample above the exact peak"
is "$(peak "['rss_hwm_bytes'] >= 40 << 20")" True "the kernel's RSS high-water mark covers the 40 MiB touched"
is "$(peak "['rss_bytes'] <= d['processes'][0]['peak']['rss_hwm_bytes'] and d['processes'][0]['peak']['rss_ts_ns'] > 0")" \
	True "the largest RSS sample is dated and within the high-water mark"
last=$(jpy "d['processes'][0]['timeline'][-1]['heap_bytes']" "$TMP/r.json")
[ "$last" -ge 10485760 ] && [ "$last" -le $((10485760 + 65536)) ]
ok $? "the last sample (at the exit stop) holds the second level, 10 MiB + stdio's buffer: $last"
done_testing
