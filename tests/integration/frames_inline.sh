#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Inlined frames (tests/workloads/inline_alloc.c, built at -O2): the static inline helper from a
# header that calls malloc is a frame of its own, marked inlined, at its header's line, above its
# caller at the line of the call -- as binutils' addr2line -i says of the same addresses. In the
# text report, JSON, pprof (one location, two lines), folded stacks, and a recording's report.
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg addr2line binutils

BIN=$WL/inline_alloc
line() { grep -n -m1 -F -- "$2" "tests/workloads/$1" | cut -d: -f1; }
HELPER=$(line inline_alloc.h "the allocation's line")
CALL=$(line inline_alloc.c "the call's line")
MAIN=$(line inline_alloc.c "build_table();")

"$MEMTRACE" record -o "$TMP/r.mtr" --json "$TMP/live.json" --folded "$TMP/live.folded" \
	--pprof "$TMP/live.pb.gz" -- "$BIN" >"$TMP/out" 2>"$TMP/err"
is "$?" 0 "memtrace record exits 0"
is "$(cat "$TMP/out")" "inline_alloc done" "the workload ran"
"$MEMTRACE" report "$TMP/r.mtr" --json "$TMP/replay.json" -o "$TMP/replay.txt" 2>/dev/null

# The stack holding the helper's 4 blocks, from its call site: function, file, line, inlined.
cat >"$TMP/site.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
st = [s for s in d["processes"][0]["stacks"] if s["outstanding_bytes"] == 4000][0]
fr = st["frames"][st["site"]:st["site"] + 3]
for f in fr:
    print("%s %s:%d%s" % (f["function"], f["file"].rsplit("/", 1)[-1], f["line"], " inlined" if f.get("inlined") else ""))
print("same address" if fr[0]["address"] == fr[1]["address"] != fr[2]["address"] else "addresses differ")
PY
is "$(python3 "$TMP/site.py" "$TMP/live.json")" "make_record inline_alloc.h:$HELPER inlined
build_table inline_alloc.c:$CALL
main inline_alloc.c:$MAIN
same address" "JSON: the inlined helper at its header's line, above its caller at the call's line"
is "$(jpy "[f.get('inlined') for p in d['processes'] for s in p['stacks'] for i, f in enumerate(s['frames']) if f.get('inlined') and not (i + 1 < len(s['frames']) and s['frames'][i + 1]['address'] == f['address'])]" "$TMP/live.json")" \
	"[]" "JSON: every inlined frame is followed by the frame it was inlined into, at its address"

# binutils' addr2line as the independent reference: each address of the workload in that stack
# that has lines (_start has none), its inline chain innermost first. Return addresses: the call
# is the byte before.
cat >"$TMP/ours.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
st = [s for s in d["processes"][0]["stacks"] if s["outstanding_bytes"] == 4000][0]
seen = []
for f in st["frames"]:
    if f["module"] == sys.argv[2] and f["file"]:
        off = int(f["module_offset"], 16) - 1
        if off not in seen:
            seen.append(off)
            print("@0x%x" % off)
        print("%s %s:%d" % (f["function"], f["file"].rsplit("/", 1)[-1], f["line"]))
PY
python3 "$TMP/ours.py" "$TMP/live.json" "$BIN" >"$TMP/ours"
grep '^@' "$TMP/ours" | tr -d @ >"$TMP/addrs"
is "$(wc -l <"$TMP/addrs")" 2 "two addresses of the workload in the stack (build_table's, main's)"
while read -r a; do
	echo "@$a"
	addr2line -i -f -C -e "$BIN" "$a" | paste - - | awk -F'\t' '{ n = split($2, p, "/"); print $1, p[n] }' |
		sed 's/ (discriminator [0-9]*)$//'
done <"$TMP/addrs" >"$TMP/theirs"
diff -u "$TMP/theirs" "$TMP/ours" | sed 's/^/# /'
cmp -s "$TMP/theirs" "$TMP/ours"; ok $? "every frame at those addresses as addr2line -i -f -C names it"

grep -A1 -F -- "-> make_record (inline_alloc.h:$HELPER) [inlined]" "$TMP/replay.txt" >"$TMP/text"
is "$(sed -n 2p "$TMP/text" | sed 's/^ *//')" "build_table (inline_alloc.c:$CALL)" \
	"text report: -> make_record (inline_alloc.h:$HELPER) [inlined], then build_table at the call"

python3 tests/lib/pprof.py "$TMP/live.pb.gz" >"$TMP/pprof"
grep -q "^0x[0-9a-f]* make_record \[make_record\] $HELPER; build_table \[build_table\] $CALL\$" "$TMP/pprof"
ok $? "pprof: one location, two lines, the inlined one first"
grep -q ";main;build_table;make_record 4000$" "$TMP/live.folded"; ok $? "folded: ...;main;build_table;make_record 4000"

nonempty "$TMP/live.json" && cmp "$TMP/live.json" "$TMP/replay.json"
ok $? "record then report: the very JSON of the live run (REC_FRAMES)"
done_testing
