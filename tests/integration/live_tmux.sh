#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The live view in a real terminal: tmux runs memtrace on tests/workloads/grow (a steady leak in
# leak_grow, a one-time 120000 B buffer), sends keys and reads the screen back. Asserts the sorts,
# the leak mark, the expanded stack, that the paused screen agrees with the final JSON, that q
# exits 0 leaving the report and a sane terminal, and that the heap sparkline rises (Unicode
# blocks under a UTF-8 locale, the ASCII ramp under C); then three processes, ended by Ctrl-C;
# then C++ names, demangled in the table, the filter and the stack.
source "$(dirname "$0")/../lib/tap.sh"
MT=$(realpath -m "$MEMTRACE")	# absolute: tmux runs commands elsewhere
GROW=$(realpath -m "$WL/grow")
CXX=$(realpath -m "$WL/cxx_leaky")

need_root
need_pkg tmux tmux
[ -x "$MT" ] && [ -x "$GROW" ] || bail "$MT and $GROW are built (run make)"

tmp=$TMP
T=(tmux -S "$tmp/sock0")
nsock=0
pids=()
cleanup() {
	local s
	for s in "$tmp"/sock*; do tmux -S "$s" kill-server 2>/dev/null; done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

screen() { "${T[@]}" capture-pane -p -t live; }
has() { screen | grep -q -- "$1"; }
wait_for() {	# extended regex, seconds: poll the screen until it shows the pattern
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	echo "# timed out waiting for /$1/; the screen was:"; screen | sed 's/^/#   /'
	return 1
}
wait_file() {	# file, pattern, seconds
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# After a failed wait for memtrace's exit: its status line, and where memtrace and the workload
# are (state, tracer, kernel stack), for a hang seen twice in ~10 full suites and never alone.
show_stuck() {	# workload name
	local p
	echo "# exit file: $(cat "$tmp/exit" 2>&1)"
	for p in $(pgrep -f "$MT -i") $(pgrep -x "$1"); do
		echo "# pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
		grep -E '^(State|TracerPid):' "/proc/$p/status" 2>/dev/null | sed 's/^/#   /'
		sed 's/^/#   /' "/proc/$p/stack" 2>/dev/null
	done
}
first_row() { screen | sed -n '/CALL SITE/{n;p;q}'; }
# The sparkline under the header line of process $1 (the screen's next line).
spark_of() { screen | sed -n "/^ *$1 grow /{n;p;q}"; }
# A sparkline that rises: lowest level first, highest last, at least 6 refreshes, and never a
# drop of more than one level (churn frees what it takes, but a refresh may catch a block of it).
rises() {	# line, "utf8" or "ascii"
	python3 - "$1" "$2" <<'PY'
import re, sys
line, ramp = sys.argv[1], sys.argv[2]
levels = "".join(chr(0x2581 + i) for i in range(8)) if ramp == "utf8" else "_.-:=+*#"
m = re.match(r"^ +heap (\S+)  \d+(\.\d)? \w+\.\.\d+(\.\d)? \w+ in \d+\.\ds$", line)
if not m or any(c not in levels for c in m.group(1)):
    sys.exit("# no %s sparkline in %r" % (ramp, line))
v = [levels.index(c) for c in m.group(1)]
ok = len(v) >= 6 and v[0] == 0 and v[-1] == 7 and all(b >= a - 1 for a, b in zip(v, v[1:]))
sys.exit(0 if ok else "# not rising: %r" % line)
PY
	[ $? -eq 0 ] || { echo "# the screen:"; screen | sed 's/^/#   /'; return 1; }
}
start() {	# the command line to run in an 80x24 terminal; its exit status lands in $tmp/exit
	rm -f "$tmp/exit"
	# A fresh server on a fresh socket: a new-session sent to a server that kill-server is still
	# tearing down lands in the dying server (seen under load in CI).
	"${T[@]}" kill-server 2>/dev/null
	nsock=$((nsock + 1))
	T=(tmux -S "$tmp/sock$nsock")
	"${T[@]}" new-session -d -s live -x 80 -y 24 \
		"$1; echo EXIT=\$? > $tmp/exit; stty -a > $tmp/stty; sleep 600"
}

# --- one process under -- CMD ---
start "LC_ALL=C.UTF-8 $MT -i 0.25 --json $tmp/out.json -- $GROW $tmp/state"
check "the live view opens and shows leak_grow" wait_for 'leak_grow \(grow\.c:' 20
check "sorted by bytes (the default), the one-time buffer comes first" \
	bash -c "[[ \"\$1\" == *one_time_buffer* ]]" _ "$(first_row)"
check "leak_grow is marked as a suspected leak" wait_for '^! .*leak_grow' 30
check "the one-time buffer is not" \
	bash -c "grep -q one_time_buffer <<<\"\$1\" && ! grep -q '^! .*one_time_buffer' <<<\"\$1\"" _ "$(screen)"
check "UTF-8 locale: a sparkline of blocks under the process rises with the leak" \
	rises "$(spark_of "$(head -1 "$tmp/state")")" utf8

"${T[@]}" send-keys -t live g
check "g sorts by growth" wait_for 'sort growth' 5
check "sorted by growth, leak_grow comes first" bash -c "[[ \"\$1\" == *leak_grow* ]]" _ "$(first_row)"

"${T[@]}" send-keys -t live Enter
check "Enter expands the selected row into its stack" wait_for 'frames, suspected leak' 5
check "the stack shows the call site and its callers" \
	bash -c "grep -q -- '-> leak_grow (grow.c:' <<<\"\$1\" && grep -q 'main (grow.c:' <<<\"\$1\"" _ "$(screen)"
"${T[@]}" send-keys -t live Escape

"${T[@]}" send-keys -t live / l e a k Enter
check "/ filters rows by a frame substring" wait_for 'filter leak' 5
check "the filter hides the one-time buffer" \
	bash -c "grep -q leak_grow <<<\"\$1\" && ! grep -q one_time_buffer <<<\"\$1\"" _ "$(screen)"
"${T[@]}" send-keys -t live / Escape

# Stop the workload allocating, let a few refreshes pass, pause, and read the screen.
kill -USR1 "$(head -1 "$tmp/state")"
check "the workload stopped allocating" wait_file "$tmp/state" stopped 10
sleep 1.5
"${T[@]}" send-keys -t live p
check "p pauses the display" wait_for 'PAUSED' 5
screen >"$tmp/paused"
"${T[@]}" send-keys -t live q
check "q ends memtrace with status 0" wait_file "$tmp/exit" 'EXIT=0' 20 || show_stuck grow
sleep 0.3
"${T[@]}" capture-pane -p -t live -S -200 >"$tmp/after"
check "the final report follows on the terminal" \
	grep -q 'memtrace report:' "$tmp/after"
check "the report names leak_grow" grep -q -- '-> leak_grow (grow.c:' "$tmp/after"
check "the terminal is back on its normal screen" \
	bash -c "[ \"\$(\"\$@\" display -p -t live '#{alternate_on}')\" = 0 ]" _ "${T[@]}"
check "the terminal echoes and is line-buffered again" \
	bash -c "grep -Eq '(^| )echo( |$)' $tmp/stty && grep -Eq '(^| )icanon( |$)' $tmp/stty"

# The paused screen and the final JSON describe the same state.
compare() { python3 - "$tmp/paused" "$tmp/out.json" "$1" <<'EOF'
import json, re, sys
screen, doc, what = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), sys.argv[3]
def fmt(n):
    if n < 1024: return "%d B" % n
    v, u = float(n), 0
    while v >= 1024 and u < 4: v /= 1024; u += 1
    return "%.1f %s" % (v, ["B", "KiB", "MiB", "GiB", "TiB"][u])
p = doc["processes"][0]
B = r"(\d+\.\d \w+|\d+ B)"
if what == "proc":
    m = re.search(r"^ *%d grow +%s +%s" % (p["pid"], B, B), screen, re.M)
    sys.exit(not (m and m.groups() == (fmt(p["summary"]["outstanding_bytes"]),
                                       fmt(p["summary"]["peak_outstanding_bytes"]))))
s = next(s for s in p["stacks"] if s["frames"][s["site"]]["function"] == what)
m = re.search(r"^[! ] +%s +(\d+) .*\b%s \(" % (B, what), screen, re.M)
sys.exit(not (m and m.groups() == (fmt(s["outstanding_bytes"]), str(s["outstanding_allocations"]))))
EOF
}
check "paused screen = final JSON: the process's heap now and its peak" compare proc
check "paused screen = final JSON: leak_grow's bytes and blocks" compare leak_grow
check "paused screen = final JSON: one_time_buffer's bytes and blocks" compare one_time_buffer
check "the JSON holds the one-time buffer exactly: 120000 B in 1 block" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["processes"][0]
s = [s for s in p["stacks"] if s["frames"][s["site"]]["function"] == "one_time_buffer"]
sys.exit(not (len(s) == 1 and s[0]["outstanding_bytes"] == 120000 and s[0]["outstanding_allocations"] == 1))
' "$tmp/out.json"

# --- three processes under -p, ended by Ctrl-C ---
for i in 1 2 3; do
	"$GROW" "$tmp/state$i" >/dev/null &
	pids+=($!)
done
for i in 1 2 3; do wait_file "$tmp/state$i" . 5; done
start "LC_ALL=C $MT -i 0.25 -p ${pids[0]},${pids[1]},${pids[2]}"
check "three processes: a PID column in the table" wait_for '^ +PID +BYTES' 20
check "three processes: each has its header line" \
	bash -c 's=$1; shift; for p; do grep -Eq "^ *$p grow " <<<"$s" || exit 1; done' _ "$(screen)" "${pids[@]}"
sleep 2	# 8 refreshes: enough for a sparkline to rise
# Seen before the return probes went in before the entry probes (user/probe/probe.c): with -p, memtrace
# sometimes saw none of one process's allocations (about 1 run in 4 under load). Not reproduced
# since, but not proven gone: a process at 0 B must then draw a flat sparkline, and every process
# memtrace did see must draw a rising one.
risen=0
for p in "${pids[@]}"; do
	line=$(spark_of "$p")
	if [[ $line == *"  0 B..0 B in "* ]]; then
		echo "# memtrace saw no allocation of pid $p (see above)"
		check "C locale: process $p's heap stayed 0 B: a flat sparkline" \
			grep -Eq '^ +heap _+  0 B\.\.0 B in ' <<<"$line"
	else
		check "C locale: process $p's sparkline, an ASCII ramp, rises" rises "$line" ascii
		risen=$((risen + 1))
	fi
done
check "C locale: at least two of the three sparklines rise" [ "$risen" -ge 2 ]
check "three processes: rows name their pid" wait_for "^. +${pids[1]} .*leak_grow" 10
"${T[@]}" send-keys -t live C-c
check "Ctrl-C ends memtrace -p with status 0" wait_file "$tmp/exit" 'EXIT=0' 20
sleep 0.3
"${T[@]}" capture-pane -p -t live -S -300 >"$tmp/after"
check "the report covers the three processes" grep -q 'memtrace report: .* 3 processes' "$tmp/after"
check "the terminal is back on its normal screen after Ctrl-C" \
	bash -c "[ \"\$(\"\$@\" display -p -t live '#{alternate_on}')\" = 0 ]" _ "${T[@]}"
check "the traced processes live on after memtrace -p ends" kill -0 "${pids[@]}"

# --- C++ names, and stacks that hold still: cxx_leaky leaks, exits, its parent lives on ---
# Each table row: [!] PID BYTES BLOCKS GROW GROW AGE SITE, a growth being 0 or a signed size.
rows_sane() {	# screen: every row's growth columns readable, and some row that holds still
	local g='(0|[+-][0-9.]+ [KMG]?i?B)' rows
	rows=$(sed -n '/CALL SITE/,/^q quit/{/CALL SITE/d;/^q quit/d;p}' <<<"$1")
	[ -n "$rows" ] && ! grep -Evq "^[! ] +[0-9]+ +[0-9.]+ [KMG]?i?B +[0-9]+ +$g +$g +[0-9.]+[smhd]  " <<<"$rows" &&
		grep -Eq ' 0 +0 +[0-9.]+[smhd]  ' <<<"$rows" && return 0
	echo "# the rows:"; sed 's/^/#   /' <<<"$rows"; return 1
}
start "LC_ALL=C $MT -i 0.25 -f -- sh -c '$CXX; exec sleep 30'"
check "C++: the live view shows cxx_leaky" wait_for '^ +[0-9]+ cxx_leaky ' 20
sleep 3	# past the 10-interval window: cxx_leaky's stacks hold still
check "stacks that hold still: 0 in both growth columns, every row readable" rows_sane "$(screen)"
"${T[@]}" send-keys -t live / P o o l Enter
check "C++: / filters by a demangled name" wait_for 'filter Pool' 5
"${T[@]}" send-keys -t live Enter
check "C++: the expanded stack names the template's member as people write it" \
	wait_for '-> Pool<Big, 2>::fill\(\) \(cxx_leaky\.cc:[0-9]+\)' 5
"${T[@]}" send-keys -t live Escape q
check "q ends the C++ trace" wait_file "$tmp/exit" 'EXIT=' 20

# --- no terminal on stdout: no live view, no escape codes ---
"$MT" -d 1 -- "$GROW" "$tmp/state4" 20 >"$tmp/stdout" 2>"$tmp/stderr"
check "stdout not a terminal: the report only, no escape codes" \
	bash -c "grep -q 'memtrace report' $tmp/stderr && ! grep -q \$'\\e' $tmp/stdout $tmp/stderr"
done_testing
