#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Deep stacks (tests/workloads/deep.c): 255 frames kept, the cut counted, never silent; and
# Ctrl-C ends a trace cleanly with the report written.
source "$(dirname "$0")/../lib/tap.sh"
need_root

"$MEMTRACE" --json "$TMP/deep.json" -o /dev/null -- "$WL/deep"
is "$(jpy "[len(s['frames']) for s in d['processes'][0]['stacks'] if s['outstanding_bytes'] == 4242]" "$TMP/deep.json")" \
	"[255]" "a 300-deep stack keeps 255 frames"
is "$(jpy "[s['frames'][i]['function'] for s in d['processes'][0]['stacks'] if s['outstanding_bytes'] == 4242 for i in (0, 254)]" "$TMP/deep.json")" \
	"['recurse', 'recurse']" "innermost first: the direct caller, then its callers"
is "$(jpy "d['lost_events_by_reason']['stack_truncated']" "$TMP/deep.json")" 1 "the cut is counted as stack_truncated"
is "$(jpy "d['summary']['lost_events']" "$TMP/deep.json")" 0 "and the event itself is not lost"

# SIGINT, as Ctrl-C sends it: the trace ends, the report is written, the target runs on.
sleep 60 & sl=$!
"$MEMTRACE" -p "$sl" --json "$TMP/int.json" 2>"$TMP/err" &
mt=$!
wait_tracing "$TMP/err"
kill -INT "$mt"
wait "$mt"
is "$?" 0 "SIGINT ends the trace with status 0"
grep -q '^memtrace report' "$TMP/err"; ok $? "and the text report is written"
is "$(jpy "d['processes'][0]['pid']" "$TMP/int.json")" "$sl" "and the JSON report"
kill -0 "$sl"; ok $? "the traced process is left running"
kill "$sl"
done_testing
