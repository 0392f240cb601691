#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# --sample-bytes refuses what it cannot use, in one line, with a non-zero status.
source "$(dirname "$0")/../lib/tap.sh"

for bad in 0 abc -5 12Q ""; do
	"$MEMTRACE" --no-live --sample-bytes "$bad" -- true >"$TMP/out" 2>"$TMP/err"
	st=$?
	[ "$st" -ne 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "invalid --sample-bytes" "$TMP/err"
	ok $? "--sample-bytes '$bad': one-line error, status $st"
done
"$MEMTRACE" --no-live --sample-bytes 64K -p 1 >"$TMP/out" 2>"$TMP/err"
is "$?" 2 "--sample-bytes with -p: a usage error"
grep -q -- "--sample-bytes applies to -- COMMAND, not to -p" "$TMP/err"; ok $? "says why"
grep -q "LD_PRELOAD=.*libmemtrace-sample.so MEMTRACE_SAMPLE_BYTES=65536 PROGRAM" "$TMP/err"; ok $? "and prints the LD_PRELOAD line to start the program with"

need_root
# A memtrace with no library beside it (and none installed there) says where it looked.
cp "$MEMTRACE" "$TMP/memtrace"
if [ ! -e /usr/local/lib/memtrace/libmemtrace-sample.so ]; then
	"$TMP/memtrace" --no-live --sample-bytes 1K -- true >"$TMP/out" 2>"$TMP/err"
	st=$?
	[ "$st" -ne 0 ] && grep -q "libmemtrace-sample.so not found next to memtrace" "$TMP/err"
	ok $? "missing library: clear error, status $st"
else
	skip "a libmemtrace-sample.so is installed in /usr/local/lib/memtrace: its absence cannot be tested"
fi
done_testing
