#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# --leak-check on real programs nobody here wrote: Debian's sqlite3 on a script and python3 -c.
# sqlite3: memtrace's four categories (bytes and blocks) equal valgrind --leak-check=full's LEAK
# SUMMARY; python3: definitely and indirectly lost do;
# the pause and both tools' wall time are printed (a benchmark's numbers, not asserted).
# --error-exitcode: a program without leaks keeps its own status.
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg sqlite3 sqlite3
need_pkg valgrind valgrind
PY=/usr/bin/python3
[ -x "$PY" ] || need_pkg python3 python3

secs() { python3 -c "import time; print('%.3f' % time.monotonic())"; }

# valgrind's LEAK SUMMARY and memtrace's totals of the same command, stdin from FILE.
both() {	# name stdin command...
	local name=$1 in=$2 t0 t1 t2; shift 2
	t0=$(secs)
	vg_run --leak-check=full --show-leak-kinds=all --run-libc-freeres=no --run-cxx-freeres=no \
		--log-file="$TMP/$name.vg" "$@" <"$in" >/dev/null 2>&1
	t1=$(secs)
	"$MEMTRACE" --leak-check --error-exitcode 9 --no-live -o "$TMP/$name.txt" --json "$TMP/$name.json" \
		-- "$@" <"$in" >/dev/null 2>"$TMP/$name.err"
	rc=$?
	t2=$(secs)
	echo "# $name: valgrind $(python3 -c "print('%.2f' % ($t1 - $t0))") s, memtrace $(python3 -c "print('%.2f' % ($t2 - $t1))") s; $(grep '^leak check' "$TMP/$name.txt")"
	want=$(python3 tests/lib/leaks.py summary "$TMP/$name.vg")
	got=$(python3 tests/lib/leaks.py mt --totals "$TMP/$name.json")
	[ -n "$want" ] || bail "valgrind gave no LEAK SUMMARY for $name: $(tail -3 "$TMP/$name.vg")"
}

both sqlite "tests/data/sqlite-workload.sql" sqlite3 :memory:
is "$rc" 0 "sqlite3: no leak, so --error-exitcode 9 leaves its status (0)"
is "$got" "$want" "sqlite3: the four categories equal valgrind's LEAK SUMMARY ($(echo $want))"

# Python: only malloc's blocks are judged; pymalloc's arenas (mmapped, merged by the kernel with
# glibc's mmapped chunks) are roots but for those blocks.
export PYTHONHASHSEED=0
both python /dev/null "$PY" -c 'import json; x = [str(i) for i in range(1000)]; print(json.dumps(x)[:10])'
is "$rc" 0 "python3: exits 0"
lost() { grep -E '^(definitely|indirectly)_lost'; }
is "$(echo "$got" | lost)" "$(echo "$want" | lost)" "python3: definitely and indirectly lost equal valgrind's ($(echo "$want" | lost | paste -sd' '))"
# One 2304-byte block is possibly lost in some runs and still reachable in others, under either
# tool (a pointer to its start left in memory or not): the other two are shown, not compared.
echo "# python3: memtrace $(echo $got), valgrind $(echo $want)"
grep -q '^  Python: only native blocks (malloc) are judged' "$TMP/python.txt"
ok $? "python3: the report says only native blocks are judged"
is "$(jpy "d['processes'][0]['leak_check']['native_only']" "$TMP/python.json")" True "JSON: native_only"
done_testing
