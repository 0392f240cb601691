#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Bad inputs to report and diff: corrupt, cut, other-version, foreign and missing files each get
# one line naming the file and the offset, exit status 5, and never a crash; bad usage exits 2.
# Needs no root: the recording is made by hand with tests/tools/make_recording.
source "$(dirname "$0")/../lib/tap.sh"

"$OUT/tools/make_recording" "$TMP/good.mtr" || { echo "not ok 1 - make_recording"; exit 1; }
"$MEMTRACE" report "$TMP/good.mtr" --json "$TMP/good.json" -o /dev/null 2>"$TMP/err"
is "$?" 0 "a hand-made recording reports"
is "$(python3 tests/lib/site.py "$TMP/good.json")" "serve 4096 2" "with its numbers: serve holds 4096 B in 2 blocks"

expect_bad() {	# desc file message-regex: exit 5, one line, the regex in it
	local desc=$1 file=$2 re=$3
	shift 3
	"$MEMTRACE" report "$file" -o /dev/null 2>"$TMP/err"
	is "$?" 5 "$desc: exit status 5"
	grep -Eq "$re" "$TMP/err"; ok $? "$desc: says '$re'"
	[ "$(wc -l <"$TMP/err")" -eq 1 ]; ok $? "$desc: in one line"
}

# On a terminal, a progress line (at once here, not after a second), erased at the end; never
# when stderr is not a terminal.
MEMTRACE_PROGRESS_AFTER_MS=0 script -qec "'$MEMTRACE' report '$TMP/good.mtr' -o /dev/null" /dev/null >"$TMP/tty" 2>&1
grep -aEq "^.memtrace: reading $TMP/good.mtr: [0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]?i?B \([0-9]+%\), [0-9.]+ M events/s" "$TMP/tty"
ok $? "on a terminal: a progress line, bytes read of the file's and events/s"
tail -c 6 "$TMP/tty" | od -c | grep -q '\\r 033   \[   K'; ok $? "erased at the end"
MEMTRACE_PROGRESS_AFTER_MS=0 "$MEMTRACE" report "$TMP/good.mtr" -o /dev/null 2>"$TMP/err"
is_empty "$(cat "$TMP/err")" "not on a terminal: nothing on stderr"

cp "$TMP/good.mtr" "$TMP/crc.mtr"
printf '\xff' | dd of="$TMP/crc.mtr" bs=1 seek=40 conv=notrunc 2>/dev/null
expect_bad "flipped byte" "$TMP/crc.mtr" "recording $TMP/crc.mtr: corrupt block \(crc32 mismatch\) at offset 16"
cp "$TMP/good.mtr" "$TMP/v4.mtr"
printf '\x04' | dd of="$TMP/v4.mtr" bs=1 seek=8 conv=notrunc 2>/dev/null
expect_bad "version 4" "$TMP/v4.mtr" "recording $TMP/v4.mtr: format version 4 at offset 8, this memtrace reads 2 to 3 -- it was written by a newer memtrace"
cp "$TMP/good.mtr" "$TMP/v1.mtr"
printf '\x01' | dd of="$TMP/v1.mtr" bs=1 seek=8 conv=notrunc 2>/dev/null
expect_bad "version 1" "$TMP/v1.mtr" "recording $TMP/v1.mtr: format version 1 at offset 8, this memtrace reads 2 to 3 -- version 1 \(zlib blocks, no stack table\) is read by memtrace before zstd recordings"
head -c 10 "$TMP/good.mtr" >"$TMP/short.mtr"
expect_bad "cut header" "$TMP/short.mtr" "recording $TMP/short.mtr: header cut short at offset 10"
echo '{"tool": "memtrace"}' >"$TMP/r.json"
expect_bad "a JSON file" "$TMP/r.json" "recording $TMP/r.json: not a memtrace recording \(bad magic at offset 0\)"
expect_bad "no such file" "$TMP/none.mtr" "failed to open recording $TMP/none.mtr: No such file or directory -- check the path"

head -c $(($(stat -c %s "$TMP/good.mtr") - 1)) "$TMP/good.mtr" >"$TMP/cut.mtr"
"$MEMTRACE" report "$TMP/cut.mtr" -o /dev/null 2>"$TMP/err"
is "$?" 0 "cut in its last block: still reports what came before"
grep -q "recording $TMP/cut.mtr is cut short at offset [0-9]*" "$TMP/err"; ok $? "and says where it was cut"

printf '{"tool": "memtrace", "processes": [1, 2' >"$TMP/trunc.json"
"$MEMTRACE" diff "$TMP/good.mtr" "$TMP/trunc.json" >/dev/null 2>"$TMP/err"
is "$?" 5 "diff with cut JSON: exit 5"
grep -q "failed to read $TMP/trunc.json: neither a recording nor JSON: unexpected end of input at offset 39" "$TMP/err"; ok $? "names the file and the offset"
echo '{"tool": "memtrace", "processes": [{"stacks": [{"kind": "heap"}]}]}' >"$TMP/nobytes.json"
"$MEMTRACE" diff "$TMP/nobytes.json" "$TMP/good.mtr" >/dev/null 2>"$TMP/err"
is "$?" 5 "diff with a report missing a field: exit 5"
grep -q "processes\[0\].stacks\[0\]: no outstanding_bytes" "$TMP/err"; ok $? "names where in the report"
"$MEMTRACE" diff "$TMP/crc.mtr" "$TMP/good.mtr" >/dev/null 2>"$TMP/err"
is "$?" 5 "diff with a corrupt recording: exit 5"
"$MEMTRACE" diff "$TMP/good.mtr" "$TMP/none.json" >/dev/null 2>"$TMP/err"
is "$?" 5 "diff with a missing file: exit 5"
grep -q "failed to open $TMP/none.json: No such file or directory -- give a recording" "$TMP/err"
ok $? "names the missing file and what to give"

"$MEMTRACE" record -- true >/dev/null 2>"$TMP/err"
is "$?" 2 "record without -o: usage error"
grep -q "give -o FILE" "$TMP/err"; ok $? "says -o FILE is needed"
"$MEMTRACE" report >/dev/null 2>&1
is "$?" 2 "report without a file: usage error"
"$MEMTRACE" diff "$TMP/good.mtr" >/dev/null 2>&1
is "$?" 2 "diff with one file: usage error"
"$MEMTRACE" diff a b c >/dev/null 2>&1
is "$?" 2 "diff with three files: usage error"
done_testing
