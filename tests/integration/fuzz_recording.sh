#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The reader against the hostile files fuzz_recording aims at, each with a right crc so that it
# gets past the block check: a zstd frame damaged or cut, a frame of another size, an event naming
# a stack the table does not hold, a STACK out of order or short. Each is exit 5 and one line
# naming the offset; then the same files, the seed and 10 s of mutations go through the fuzzer
# itself (ASan, UBSan), which must find nothing. Needs no root; clang for the fuzzer.
source "$(dirname "$0")/../lib/tap.sh"
need_pkg zstd zstd

"$OUT/tools/make_recording" "$TMP/good.mtr" || bail "make_recording"
"$MEMTRACE" report "$TMP/good.mtr" -o /dev/null 2>"$TMP/err"
is "$?" 0 "the hand-made recording reports"

# Writes the bad files into $TMP: good.mtr's first block damaged under a right crc, and
# one-block files of hand-written records (varint type, varint length, payload; an EVENT has
# no length: flags, op << OP_SHIFT) and the columns holding the events' fields (codec.h: a value's low
# byte in one, the rest as a varint in the next; the pid's pair first, then the time's, the
# stack's, and more, CODEC_COLUMNS in all).
python3 - "$TMP" <<'EOF' || bail "writing the bad files"
import os, re, struct, subprocess, sys, zlib
tmp = sys.argv[1]
good = open(os.path.join(tmp, "good.mtr"), "rb").read()
hdr, (zlen, raw_len, _) = good[:16], struct.unpack_from("<III", good, 16)
frame, rest = good[28:28 + zlen], good[28 + zlen:]

def block(z, raw_len):
    return struct.pack("<III", len(z), raw_len, zlib.crc32(z)) + z

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7f | 0x80)
        v >>= 7
    return bytes(out + bytes([v]))

def record(t, payload):
    return varint(t) + varint(len(payload)) + payload

def compressed(raw):
    path = os.path.join(tmp, "raw")
    open(path, "wb").write(raw)	# from a file, so that the frame says its size
    return subprocess.run(["zstd", "-qc", "--no-check", path], stdout=subprocess.PIPE, check=True).stdout

def write(name, data):
    open(os.path.join(tmp, name), "wb").write(data)

write("magic.mtr", hdr + block(bytes([frame[0] ^ 0x20]) + frame[1:], raw_len) + rest)
write("cutframe.mtr", hdr + block(frame[:-1], raw_len) + rest)
write("othersize.mtr", hdr + block(frame, raw_len + 1) + rest)
start = record(1, struct.pack("<Q", 1000))
MALLOC, HAS_PID, HAS_STACK, STACK = 1, 1, 8, 14
COLUMNS = 2 * len(re.findall(r"^\tCODEC_[A-Z0-9]+,", open("user/record/codec.h").read(), re.M))
OP_SHIFT = int(re.search(r"\tOP_SHIFT = (\d+),", open("user/record/codec.c").read()).group(1))
event = bytes([2, HAS_PID | HAS_STACK]) + varint(MALLOC << OP_SHIFT)
def raw_block(records, stack=None):	# an event's pid 42 and stack in its columns
    cols = [b""] * COLUMNS
    if stack is not None:
        cols[0:2] = [bytes([42]), varint(0)]
        cols[4:6] = [bytes([stack & 0xff]), varint(stack >> 8)]
    return varint(len(records)) + varint(COLUMNS) + b"".join(varint(len(c)) for c in cols) + \
        records + b"".join(cols)
stack = lambda sid, words: record(STACK, varint(sid) + varint(len(words)) + b"".join(varint(w) for w in words))
for name, raw in (("nowhere.mtr", raw_block(start + event, 7)),
                  ("nowhere1.mtr", raw_block(start + stack(0, [0x401000]) + event, 1)),
                  ("stackorder.mtr", raw_block(start + stack(3, [0x401000]))),
                  ("stackshort.mtr", raw_block(start + record(STACK, varint(0) + varint(3) + varint(0x401000)))),
                  ("stacknone.mtr", raw_block(start + stack(0, []))),
                  ("columns.mtr", raw_block(start + stack(0, [0x401000]) + event)),
                  ("fine.mtr", raw_block(start + stack(0, [0x401000]) + event, 0))):
    write(name, hdr + block(compressed(raw), len(raw)))
EOF

# The fuzzer's seed (make_recording's file) holds every record type recording.h names, so that
# mutations start from each decoder: an EVENT is walked by its flags, every other by its length.
python3 - "$TMP/good.mtr" >"$TMP/types" 2>&1 <<'EOF'
import re, subprocess, struct, sys
names = re.search(r"enum rec_type \{(.*?)REC__COUNT", open("user/record/recording.h").read(), re.S).group(1)
names = re.findall(r"^\s*REC_([A-Z_]+)", names, re.M)
data, at, seen = open(sys.argv[1], "rb").read(), 16, set()
def varint(b, i):
    v = s = 0
    while True:
        v |= (b[i] & 0x7f) << s
        s += 7
        i += 1
        if not b[i - 1] & 0x80:
            return v, i
while at < len(data):
    zlen, raw_len, _ = struct.unpack_from("<III", data, at)
    raw = subprocess.run(["zstd", "-dqc"], input=data[at + 12:at + 12 + zlen], stdout=subprocess.PIPE, check=True).stdout
    at += 12 + zlen
    nrec, i = varint(raw, 0)	# the records' length, then the columns' count and lengths
    ncols, i = varint(raw, i)
    for _ in range(ncols):
        _, i = varint(raw, i)
    end = i + nrec
    while i < end:
        t, i = varint(raw, i)
        seen.add(t)
        if names[t - 1] == "EVENT":	# flags, op; its fields are in the columns
            _, i = varint(raw, i + 1)
        else:
            n, i = varint(raw, i)
            i += n
missing = [n for k, n in enumerate(names, 1) if k not in seen]
print("missing: " + " ".join(missing) if missing else "all %d" % len(names))
EOF
is "$(cat "$TMP/types")" "all $(sed -n '/^enum rec_type {/,/REC__COUNT/p' user/record/recording.h | grep -c '^	REC_[A-Z]')" \
	"the seed holds every record type of recording.h"

expect_bad() {	# desc file message-regex: exit 5, one line, the regex in it
	local desc=$1 file=$TMP/$2 re=$3
	"$MEMTRACE" report "$file" -o /dev/null 2>"$TMP/err"
	is "$?" 5 "$desc: exit status 5"
	grep -Eq "recording $file: $re" "$TMP/err"; ok $? "$desc: says '$re'"
	[ "$(wc -l <"$TMP/err")" -eq 1 ]; ok $? "$desc: in one line"
}

"$MEMTRACE" report "$TMP/fine.mtr" -o /dev/null 2>"$TMP/err"
is "$?" 0 "the hand-written records, well formed, report"
expect_bad "zstd magic flipped" magic.mtr "corrupt block \(zstd frames of another size\) at offset 16"
expect_bad "zstd frame cut by a byte" cutframe.mtr "corrupt block \(zstd frames of another size\) at offset 16"
expect_bad "block length not the frame's" othersize.mtr "corrupt block \(zstd frames of another size\) at offset 16"
expect_bad "event naming a stack, none defined" nowhere.mtr "event at byte [0-9]+ of the block at offset 16 names stack 7, but the stack table holds 0"
expect_bad "event naming stack 1 of a table of 1" nowhere1.mtr "event at byte [0-9]+ of the block at offset 16 names stack 1, but the stack table holds 1"
expect_bad "STACK 3 first" stackorder.mtr "corrupt record \(type 14\) at byte [0-9]+ of the block at offset 16"
expect_bad "STACK shorter than it says" stackshort.mtr "corrupt record \(type 14\) at byte [0-9]+ of the block at offset 16"
expect_bad "STACK of no words" stacknone.mtr "corrupt record \(type 14\) at byte [0-9]+ of the block at offset 16"
expect_bad "event whose fields the columns lack" columns.mtr "corrupt record \(type 2\) at byte [0-9]+ of the block at offset 16"

# The fuzzer: these files as they are, then mutations of them and of the seed.
FUZZ=$OUT/fuzz/fuzz_recording
if ! command -v clang >/dev/null; then
	skip "the fuzzer needs clang (apt-get install clang libclang-rt-14-dev)"
else
	make -s -j2 "${FUZZ#"$ROOT"/}" >"$TMP/make.log" 2>&1 || { tail -5 "$TMP/make.log" | sed 's/^/#   /'; bail "make $FUZZ"; }
	mkdir "$TMP/corpus"
	cp "$TMP"/*.mtr "$TMP/corpus/"
	python3 tests/fuzz/unwrap.py "$TMP/good.mtr" "$TMP/corpus/seed.raw" || bail "unwrap.py"
	"$FUZZ" "$TMP"/corpus/* >"$TMP/fuzz.log" 2>&1
	ok $? "the fuzzer runs each file clean (ASan, UBSan)"
	"$FUZZ" -max_total_time="${FUZZ_SECONDS:-10}" -close_fd_mask=2 -max_len=65536 \
		-artifact_prefix="$TMP/" "$TMP/corpus" >"$TMP/fuzz.log" 2>&1
	st=$?
	ok $st "${FUZZ_SECONDS:-10} s of mutations find nothing"
	[ $st -eq 0 ] || grep -E "ERROR|SUMMARY|Test unit written" "$TMP/fuzz.log" | head -5 | sed 's/^/#   /'
	grep -E "^Done [0-9]+ runs" "$TMP/fuzz.log" | sed 's/^/#   /'
fi
done_testing
