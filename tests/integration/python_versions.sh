#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The offset table (user/probe/python_offsets.c) against live interpreters of each version it lists,
# when this machine has them (pyenv builds: PIE executables with a shared libpython, unlike
# Debian's static one): the same workload's lines hold the same bytes under each.
source "$(dirname "$0")/../lib/tap.sh"
need_root
for v in 3.11 3.12 3.13; do
	py=$(ls -d $PYENV_DIR/versions/$v.*/bin/python$v 2>/dev/null | head -1)
	[ -n "$py" ] || { skip "no CPython $v under $PYENV_DIR"; continue; }
	"$MEMTRACE" --no-live --json "$TMP/$v.json" -o /dev/null -- \
		"$py" "$ROOT/tests/workloads/py_lines.py" "$TMP/wl$v.json" --no-tracemalloc >/dev/null 2>&1
	# pylines.py reads the report's Python view alone: its lines, then "python VERSION FRAMES UNAVAILABLE".
	python3 tests/lib/pylines.py "$TMP/$v.json" "$TMP/wl$v.json" >"$TMP/lines$v"
	is "$(awk '$1 == "python" { print substr($2, 1, length(v) + 1), $4 }' v="$v" "$TMP/lines$v")" \
		"$v. None" "CPython $v ($py) detected, frames available"
	is "$(awk '$1 == "blobs" || $1 == "thread" || $1 == "nogil" { printf "%s=%s ", $1, $2 }' "$TMP/lines$v")" \
		"blobs=50000050 nogil=16666665 thread=60000030 " "CPython $v: each line holds its known bytes"
done
done_testing
