#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The BPF frame-pointer walk (--unwind fp) on stacks of known depth (tests/workloads/fp_depth.c):
# every frame from
# the allocation site to where the chain ends in libc (main's caller, a thread's start_thread),
# nothing past it; a stack deeper than 255 frames cut at 255 and counted as truncated.
source "$(dirname "$0")/../lib/tap.sh"
need_root

"$MEMTRACE" --unwind fp --json "$TMP/r.json" -o /dev/null -- "$WL/fp_depth" >/dev/null 2>"$TMP/stderr"
is "$?" 0 "memtrace and fp_depth exit 0"

frames() {	# bytes: the functions of the stack holding that many bytes, comma-separated
	jpy "','.join(f.get('function') or '?' for s in d['processes'][0]['stacks'] if s['outstanding_bytes'] == $1 for f in s['frames'])" "$TMP/r.json"
}
rec() { printf 'recurse,%.0s' $(seq "$1"); }

is "$(frames 1111)" "$(rec 11)main,__libc_start_call_main" "10 deep: 11 recurse frames, main, libc's caller, and no more"
is "$(frames 3333)" "$(rec 4)thread_main,start_thread" "in a thread: the chain ends at start_thread"
is "$(frames 2222)" "$(rec 255 | sed 's/,$//')" "300 deep: cut at the 255 innermost frames"
is "$(jpy "d['lost_events_by_reason']['stack_truncated']" "$TMP/r.json")" 1 "the cut stack is counted as truncated, once"
is "$(jpy "d['lost_events_by_reason']['stack_failed'] + d['lost_events_by_reason']['ringbuf_full']" "$TMP/r.json")" 0 "no other loss"
done_testing
