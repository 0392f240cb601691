#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Traced across exec: programs started the way people start them -- a pyenv-like chain of shims,
# an `env` shebang, `sh -c 'exec ...'`, a shell that execs later under -p -- get the lines, the
# tables and the name of the program that finally runs, and the old program's blocks are not
# its leaks. Every run asserts lost events and each loss reason it could hit.
source "$(dirname "$0")/../lib/tap.sh"
need_root
PY=/usr/bin/python3.11
[ -x "$PY" ] || skip_all "Debian's python3.11 is not installed"

# A pyenv-like shim: a bash script execs a second, which execs the interpreter given.
shims() {	# interpreter: writes $TMP/shim1 -> $TMP/shim2 -> interpreter
	printf '#!/bin/bash\nexec %s "$@"\n' "$TMP/shim2" >"$TMP/shim1"
	printf '#!/bin/bash\nexec %s "$@"\n' "$1" >"$TMP/shim2"
	chmod +x "$TMP/shim1" "$TMP/shim2"
}

# "blobs thread" bytes at py_lines.py's two tagged lines, then the losses, from a report.
cat >"$TMP/lines.py" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[3])
from pylines import line_report
d = json.load(open(sys.argv[1]))
wl = json.load(open(sys.argv[2]))
p = d["processes"][0]
held = {l.split()[0]: int(l.split()[1]) for l in line_report(p["python"], wl) if l.split()[0] in wl["lines"]}
print(held["blobs"], held["thread"])
print(p["comm"], " ".join(p["exec_chain"]))
r = d["lost_events_by_reason"]
print("#", {k: v for k, v in r.items() if v}, "unknown_frees", d["summary"]["unknown_frees"], file=sys.stderr)
print(d["summary"]["lost_events"], r["python_stack_cut"], r["python_stack_truncated"],
      r["stack_truncated"], r["unwind_unsupported"], r["work_busy"])
PY
# Bytes at a line are exact to the interpreter's own small mallocs there: within 1% or 4 KiB.
within() {	# got want desc
	local got=$1 want=$2; shift 2
	[ -n "$got" ] && [ "$got" -ge "$want" ] && [ "$got" -le $((want + (want / 100 > 4096 ? want / 100 : 4096))) ]
	ok $? "$* (memtrace $got, expected $want)"
}
python_run() {	# name chain-expected command...: traces py_lines.py through the command
	local name=$1 chain=$2 out
	shift 2
	"$MEMTRACE" --no-live --json "$TMP/$name.json" -o /dev/null -- "$@" \
		"$ROOT/tests/workloads/py_lines.py" "$TMP/$name.wl.json" --no-tracemalloc >/dev/null 2>"$TMP/$name.err"
	is "$?" 0 "$name: memtrace traces the workload to its end"
	out=$(python3 "$TMP/lines.py" "$TMP/$name.json" "$TMP/$name.wl.json" "$ROOT/tests/lib")
	[ -n "$out" ] || out="no report"
	within "$(echo "$out" | sed -n 1p | cut -d' ' -f1)" 50000050 "$name: 50 x bytearray(1_000_000) at their line"
	within "$(echo "$out" | sed -n 1p | cut -d' ' -f2)" 60000030 "$name: 3 threads x 10 x bytearray(2_000_000) at theirs"
	is "$(echo "$out" | sed -n 2p)" "$chain" "$name: named by the interpreter, with the programs before it"
	is "$(echo "$out" | sed -n 3p)" "0 0 0 0 0 0" \
		"$name: no event lost, no Python stack cut or truncated, no stack truncated"
}

shims "$PY"
python_run shim "python3.11 shim1 shim2 python3.11" "$TMP/shim1"
# A program that loads nothing by dlopen (py_lines.py's ctypes does, and a table for a library
# dlopen'd is loaded once BPF meets it): every frame unwinds from the new program's first event.
"$MEMTRACE" --no-live -o "$TMP/shim.txt" --json "$TMP/plain.json" -- "$TMP/shim1" -c \
	'x = [bytearray(1000000) for _ in range(5)]' >/dev/null 2>&1
is "$(jpy "[d['lost_events_by_reason'][k] for k in ('unwind_no_table', 'unwind_read_fault')] + [d['summary']['lost_events']]" "$TMP/plain.json")" \
	"[0, 0, 0]" "shim: the interpreter's unwind tables were loaded before it ran"
grep -q "^== pid [0-9]* (python3.11), exec'd from shim1 -> shim2, exited$" "$TMP/shim.txt"
ok $? "the text report says which programs exec'd the interpreter"

# The same chain ending in each pyenv interpreter found (shared libpython, its own extension
# modules loaded by dlopen: their first frames may miss a table, which is not an event lost).
# In the kernel matrix's guest one is enough: what differs by kernel is the exec, not the version.
n=0
for py in "$PYENV_DIR"/versions/3.1[123]*/bin/python3.1[123]; do
	[ -x "$py" ] || continue
	[ -n "${VMTEST_MODROOT:-}" ] && [ "$n" -ge 1 ] && break
	n=$((n + 1))
	shims "$py"
	python_run "pyenv$n" "$(basename "$py") shim1 shim2 $(basename "$py")" "$TMP/shim1"
done
[ "$n" -gt 0 ] || skip "no pyenv interpreter of 3.11-3.13 on this machine"

# A script with an env shebang, run directly: env finds python3 on the PATH (here, often pyenv's
# own shim, a bash script that execs pyenv, which execs the interpreter).
printf '#!/usr/bin/env python3\nimport runpy, sys\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name="__main__")\n' >"$TMP/run.py"
chmod +x "$TMP/run.py"
"$MEMTRACE" --no-live --json "$TMP/env.json" -o /dev/null -- "$TMP/run.py" \
	"$ROOT/tests/workloads/py_lines.py" "$TMP/env.wl.json" --no-tracemalloc >/dev/null 2>"$TMP/env.err"
is "$?" 0 "env shebang: memtrace traces the script to its end"
is "$(jpy "[d['processes'][0]['exec_chain'][0], d['processes'][0]['comm'].startswith('python'), d['summary']['lost_events']]" "$TMP/env.json")" \
	"['run.py', True, 0]" "env shebang: the report names the interpreter, not env, and nothing was lost"
is "$(jpy "'env' in d['processes'][0]['exec_chain']" "$TMP/env.json")" "False" \
	"env shebang: env kept the script's name as its comm (the kernel runs env for run.py)"

# A C program started through sh -c 'exec ...': exact bytes per call site, as core_leaky.
"$MEMTRACE" --no-live --json "$TMP/c.json" -o /dev/null -- sh -c "exec '$WL/leaky' 3" >/dev/null 2>&1
is "$?" 3 "sh -c exec: the command's own status"
python3 tests/lib/site.py "$TMP/c.json" heap >"$TMP/sites"
for want in "leak_malloc 10000 10" "leak_calloc 8400 4" "leak_realloc 20000 1" "leak_posix_memalign 9000 3" \
	"leak_aligned_alloc 4096 2" "leak_memalign 9692 3" "leak_reallocarray 300 1"; do
	is "$(grep "^${want%% *} " "$TMP/sites")" "$want" "sh -c exec: ${want%% *} holds exactly what it leaked"
done
is "$(jpy "[d['summary']['outstanding_bytes'], d['summary']['outstanding_allocations'], d['summary']['lost_events'], d['processes'][0]['exec_chain']]" "$TMP/c.json")" \
	"[66184, 31, 0, ['sh', 'leaky']]" "sh -c exec: sh's own blocks went with it: only leaky's are outstanding"
# strdup is in libc, unwound by its CFI table: after the exec its frames still reach main.
is "$(jpy "[[f['function'] for f in s['frames'][:3]] for s in d['processes'][0]['stacks'] if s['outstanding_bytes'] == 600]" "$TMP/c.json")" \
	"[['__strdup', 'leak_strdup', 'main']]" "sh -c exec: a stack through libc unwinds whole after the exec"
is "$(jpy "d['lost_events_by_reason']['unwind_no_table'] + d['lost_events_by_reason']['unwind_read_fault']" "$TMP/c.json")" \
	0 "sh -c exec: no frame lost for want of a table"

# -p on a shell that later execs Python: attribution switches to the Python lines.
bash -c "while [ ! -e '$TMP/go' ]; do sleep 0.05; done; exec '$PY' '$ROOT/tests/workloads/py_lines.py' '$TMP/p.wl.json' --no-tracemalloc" &
sh_pid=$!
"$MEMTRACE" --no-live -p "$sh_pid" --json "$TMP/p.json" -o /dev/null 2>"$TMP/p.err" &
mt=$!
wait_tracing "$TMP/p.err"
ok $? "-p: memtrace attached to the shell"
release_and_wait "$TMP/go" "$mt" "$sh_pid"
is "$?" 0 "-p: memtrace ends when the process does"
out=$(python3 "$TMP/lines.py" "$TMP/p.json" "$TMP/p.wl.json" "$ROOT/tests/lib")
within "$(echo "$out" | sed -n 1p | cut -d' ' -f1)" 50000050 "-p: after the exec, the bytearrays are at their Python line"
is "$(echo "$out" | sed -n 2p)" "python3.11 bash python3.11" "-p: the shell exec'd the interpreter"
is "$(echo "$out" | sed -n 3p)" "0 0 0 0 0 0" "-p: no event lost, no stack cut"
done_testing
