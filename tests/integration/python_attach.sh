#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `memtrace -p PID` on a Python program already running (Debian's /usr/bin/python3): its lines
# are seen from the first allocation after attach, with no restart and no change to the program.
# Then: an interpreter of a version memtrace does not read gets native stacks and one line
# saying why; --python-frames off and only shape the stacks as they say.
source "$(dirname "$0")/../lib/tap.sh"
need_root
PY=/usr/bin/python3
need_pkg "$PY" python3

go=$TMP/go
"$PY" "$ROOT/tests/workloads/py_lines.py" "$TMP/wl.json" --go "$go" --no-tracemalloc >"$TMP/wout" &
pid=$!
for _ in $(seq 200); do [ -s "$TMP/wout" ] && break; sleep 0.05; done
"$MEMTRACE" -p "$pid" --no-live --json "$TMP/r.json" -o "$TMP/report.txt" 2>"$TMP/err" &
mt=$!
wait_tracing "$TMP/err"
grep -q "tracing pid $pid (python3)" "$TMP/err"; ok $? "attached to the running interpreter"
WAIT_S=60 release_and_wait "$go" "$mt" "$pid"
is "$?" 0 "memtrace ends when the Python program exits"
python3 tests/lib/pylines.py "$TMP/r.json" "$TMP/wl.json" >"$TMP/lines"
sed 's/^/# /' "$TMP/lines"
heap() { awk -v t="$1" '$1 == t { print $2 }' "$TMP/lines"; }
is "$(heap blobs)" 50000050 "the bytearrays made after attach, exactly, at their line (no tracemalloc)"
is "$(heap thread)" 60000030 "the threads' bytearrays at the worker's line"
is "$(heap nogil)" 16666665 "the GIL-released mallocs at the thread's line"
bl=$(jpy "d['lines']['blobs']" "$TMP/wl.json")
grep -Eq "^ +47\.[0-9] MiB in +5[0-9] blocks, avg .*/py_lines.py:$bl blobs" "$TMP/report.txt"
ok $? "the text report's top lines show py_lines.py:$bl"

# Native frames only: the Python program is still known, its stacks carry no Python frame.
"$MEMTRACE" --no-live --python-frames off --json "$TMP/off.json" -o /dev/null -- \
	"$PY" "$ROOT/tests/workloads/py_lines.py" "$TMP/wl2.json" --no-tracemalloc >/dev/null 2>&1
is "$(jpy "sum(1 for s in d['processes'][0]['stacks'] for f in s['frames'] if f['module'] is None and f['file'])" "$TMP/off.json")" 0 \
	"--python-frames off: no Python frame in any stack"
is "$(jpy "d['processes'][0]['python']['frames']" "$TMP/off.json")" off "and the report says so"

# Python frames alone.
"$MEMTRACE" --no-live --python-frames only --json "$TMP/only.json" -o /dev/null -- \
	"$PY" "$ROOT/tests/workloads/py_lines.py" "$TMP/wl3.json" --no-tracemalloc >/dev/null 2>&1
is "$(jpy "[[f['function'] for f in s['frames']] for s in d['processes'][0]['stacks'] if s['outstanding_bytes'] == 50000050]" "$TMP/only.json")" \
	"[['blobs.<locals>.<listcomp>', 'blobs', 'main', '<module>']]" "--python-frames only: the Python frames and nothing else"

# An interpreter memtrace cannot read: native stacks, one line saying why. Debian's interpreter
# with its Py_Version constant patched to 3.10.12 runs as before but declares a version memtrace
# has no layout for; a real 3.10 (pyenv) is tried too when present.
python3 tests/lib/patch_pyversion.py "$PY" "$TMP/python3.10" 030a0cf0
old_check() {	# interpreter version-in-message
	"$MEMTRACE" --no-live --json "$TMP/old.json" -o "$TMP/old.txt" -- "$1" -c \
		'import os; x = [bytearray(100000) for _ in range(20)]; os._exit(0)' 2>/dev/null
	is "$(grep -c 'Python frames unavailable' "$TMP/old.txt")" 1 "Python $2: one line says Python frames are unavailable"
	grep -q "^Python frames unavailable: Python $2 is not supported (memtrace reads CPython 3.11, 3.12, 3.13); native stacks only" "$TMP/old.txt"
	ok $? "and why: $(grep 'unavailable' "$TMP/old.txt")"
	is "$(jpy "d['processes'][0]['summary']['outstanding_bytes'] >= 2000000, d['processes'][0]['python']['frames']" "$TMP/old.json")" \
		"True unavailable" "its memory is still traced, with native stacks"
}
old_check "$TMP/python3.10" 3.10.12
old=$(ls -d $PYENV_DIR/versions/3.10*/bin/python3.10 2>/dev/null | head -1)
if [ -n "$old" ]; then old_check "$old" 3.10; else skip "no real CPython 3.10 under $PYENV_DIR (the patched 3.10.12 above was checked)"; fi
done_testing
