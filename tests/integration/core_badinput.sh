#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Bad input: each gets one clear line naming the problem and what to do, a distinct non-zero
# exit status, no crash or hang, and no probes left behind.
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg setpriv util-linux

expect() {	# status regex desc -- memtrace args...
	local want=$1 re=$2 desc=$3; shift 4
	timeout 60 "$MEMTRACE" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	local rc=$?
	is "$rc" "$want" "$desc: exit status $want"
	grep -Eq "$re" "$TMP/err"; ok $? "$desc: says '$re'"
	[ -s "$TMP/err" ] && [ "$(grep -c . "$TMP/err")" -le 2 ]; ok $? "$desc: a short error, not a dump ($(head -c 200 "$TMP/err"))"
}

expect 2 "nothing to trace" "no target" --
expect 2 "invalid pid 'abc'" "pid not a number" -- -p abc
expect 1 "invalid --metrics address 'localhost' -- give ADDR:PORT" "--metrics without a port" -- --metrics localhost -- true
expect 1 "invalid --metrics address '127.0.0.1:99999' -- give ADDR:PORT, a port from 1 to 65535" \
	"--metrics port out of range" -- --metrics 127.0.0.1:99999 -- true
# An output that cannot be written is refused before the trace, not after it: the command never runs.
expect 1 "cannot write JSON report to /nonexistent/r.json: No such file or directory -- check the directory" \
	"unwritable --json" -- --json /nonexistent/r.json -- touch "$TMP/ran"
expect 1 "cannot write text report to $TMP: Is a directory" "-o a directory" -- -o "$TMP" -- touch "$TMP/ran"
[ ! -e "$TMP/ran" ]; ok $? "the command did not run for an output it could not write"
expect 2 "either -p PID or -- COMMAND" "both -p and a command" -- -p 1 -- true
expect 2 "invalid duration 'soon' -- give a number, at least" "bad duration" -- -d soon -p 1
expect 2 "invalid interval for --pprof-every '0' -- give a number, at least 1" "pprof interval of 0" -- --pprof-every 0 -- true
expect 4 "no such process: 999999.*pgrep" "no such pid" -- -p 999999
expect 127 "command not found: no-such-command-xyz" "missing command" -- -- no-such-command-xyz
chmod -x "$TMP" 2>/dev/null; printf 'data' >"$TMP/notexec"; chmod 644 "$TMP/notexec"; chmod 755 "$TMP"
expect 126 "cannot execute.*permission denied" "file not executable" -- -- "$TMP/notexec"
expect 126 "cannot execute.*directory" "a directory" -- -- /tmp

# A program with no C library at all: nothing to probe, said by name.
printf '%s\n' 'void _start(void){ for(;;) __asm__ volatile("pause"); }' >"$TMP/bare.c"
if gcc -static -nostdlib -O1 "$TMP/bare.c" -o "$TMP/bare" 2>"$TMP/cc.err"; then
	expect 4 "has no malloc to probe" "-- CMD without malloc" -- -- "$TMP/bare"
	"$TMP/bare" & bare=$!
	expect 4 "process $bare \(bare\) maps no C library with malloc" "-p without malloc" -- -p "$bare"
	kill "$bare"
else
	sed 's/^/#   gcc: /' "$TMP/cc.err"
	ok 1 "gcc builds a program with no C library"
fi

# Not root: refused before anything is loaded.
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$MEMTRACE" -p 1 >/dev/null 2>"$TMP/err"
is "$?" 3 "not root: exit status 3"
grep -q "needs CAP_BPF and CAP_PERFMON -- run it as root, or with sudo" "$TMP/err"; ok $? "not root: says what it needs and how to get it"

# No BTF: hide it in a private mount namespace.
unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && exec '$MEMTRACE' -- true" >/dev/null 2>"$TMP/err"
is "$?" 3 "no BTF: exit status 3"
grep -q "no BTF.*CONFIG_DEBUG_INFO_BTF" "$TMP/err"; ok $? "no BTF: names the kernel option"

# tracefs not mounted: memtrace needs none of it (uprobes through perf, tp_btf).
unshare -m sh -c "umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null;
	grep -q tracefs /proc/self/mounts && exit 9
	exec '$MEMTRACE' --json '$TMP/notracefs.json' -o /dev/null -- '$WL/leaky'" >/dev/null 2>&1
is "$?" 0 "no tracefs: traces anyway"
is "$(python3 tests/lib/site.py "$TMP/notracefs.json" | grep leak_malloc)" "leak_malloc 10000 10" "no tracefs: same numbers"

# A command that crashes mid-trace: its status as a shell shows it, and the report is there.
printf '%s\n' '#include <stdlib.h>' '#include <signal.h>' \
	'int main(void){ void *volatile p = malloc(777); (void)p; raise(SIGSEGV); return 0; }' >"$TMP/crash.c"
gcc -g -O1 -fno-omit-frame-pointer "$TMP/crash.c" -o "$TMP/crash"
"$MEMTRACE" --json "$TMP/crash.json" -o /dev/null -- "$TMP/crash" 2>/dev/null
is "$?" 139 "crashing command: 128 + SIGSEGV"
is "$(jpy "d['summary']['outstanding_bytes']" "$TMP/crash.json")" 777 "crashing command: its report is complete"

# An output whose directory goes away during the trace (the command removes it): an error naming
# it, non-zero; the other outputs still written.
mkdir "$TMP/gone"
"$MEMTRACE" --json "$TMP/ok.json" -o "$TMP/gone/report.txt" -- sh -c "'$WL/leaky'; rm -r '$TMP/gone'" \
	>/dev/null 2>"$TMP/err"
is "$?" 1 "-o unwritable at the end: exit status 1"
grep -q "cannot write text report to $TMP/gone/report.txt" "$TMP/err"; ok $? "-o unwritable at the end: names the file"
[ -s "$TMP/ok.json" ]; ok $? "-o unwritable at the end: the JSON report is still written"

# Killed outright mid-trace: the probes go with memtrace (perf-PMU uprobes, nothing in tracefs
# to leak), and the traced process runs on.
"$WL/waiter" "$TMP/never" >/dev/null & w=$!
"$MEMTRACE" -p "$w" 2>"$TMP/err" & mt=$!
wait_tracing "$TMP/err"
[ "$(bpftool perf show 2>/dev/null | grep -c "pid $mt ")" -gt 0 ]; ok $? "while tracing, bpftool shows memtrace's uprobes"
kill -KILL "$mt"; wait "$mt" 2>/dev/null
sleep 0.5
bpftool perf show >"$TMP/perf" 2>&1 && ! grep -q "pid $mt " "$TMP/perf"
ok $? "after SIGKILL, no uprobe is left attached (bpftool perf show read)"
kill -0 "$w"; ok $? "and the traced process still runs"

# Ended normally: memtrace returns at once, a child (memtrace-detach) holds the probes while the
# kernel frees them one grace period at a time, and nothing is left once it is done.
links() { bpftool link show 2>/dev/null | grep -c perf_event; }
detached() { for _ in $(seq 100); do pgrep -x memtrace-detach >/dev/null || return 0; sleep 0.1; done; return 1; }
detached	# an earlier memtrace's
before=$(links)
"$MEMTRACE" -p "$w" 2>"$TMP/err" & mt=$!
wait_tracing "$TMP/err"
[ "$(links)" -gt "$before" ]; ok $? "while tracing, bpftool shows memtrace's perf_event links"
kill -INT "$mt"; wait "$mt"
is "$?" 0 "-p ended by SIGINT: exit status 0"
detached; ok $? "memtrace-detach ends within 10 s"
is "$(links)" "$before" "then no probe of memtrace's is left (bpftool link show read)"
kill -0 "$w"; ok $? "and the traced process still runs"
kill "$w"
done_testing
