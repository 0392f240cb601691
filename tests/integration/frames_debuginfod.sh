#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Debug info from debuginfod, end to end with a real server (Debian's debuginfod) on 127.0.0.1:
# a workload built with -g, stripped, its debug file moved into the directory the server serves.
# Without a server its frames are offsets; with one (DEBUGINFOD_URLS or --debuginfod) they carry
# function and file:line, live, recorded, and in the report of a recording without symbols; a
# killed server gives one clear warning and offsets, never a hang. Distributions' debug files are
# dwz-compressed, their shared part in a file of its own: that one is fetched too.
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg objcopy binutils
need_pkg debuginfod debuginfod
need_pkg dwz dwz

LK=$TMP/lk	# the stripped workload
mkdir -p "$TMP/served"
cp "$WL/leaky" "$LK"
objcopy --only-keep-debug "$LK" "$TMP/served/lk.debug" && objcopy --strip-all "$LK" ||
	bail "objcopy could not split the workload's debug info"
BUILD_ID=$(readelf -n "$LK" | awk '/Build ID/ { print $3 }')
[ -n "$BUILD_ID" ] || bail "the workload has no build id"
! readelf -S "$LK" | grep -qE '\.(symtab|debug_info)'; ok $? "the workload is stripped: no symbols, no DWARF"

# dwz: inline_alloc and a variant of it share make_record's name, which goes to a common file
# that is nowhere on this machine but on the server.
IA=$TMP/ia
sed 's/i < 4/i < 3/' tests/workloads/inline_alloc.c >"$TMP/ib.c"
cp "$WL/inline_alloc" "$IA"
gcc -g -O2 -fno-omit-frame-pointer -Itests/workloads "$TMP/ib.c" -o "$TMP/ib" &&
	dwz -m "$TMP/served/common.debug" -M "/usr/lib/debug/.dwz/memtrace-test-$$.debug" "$IA" "$TMP/ib" &&
	objcopy --only-keep-debug "$IA" "$TMP/served/ia.debug" && objcopy --strip-all "$IA" ||
	bail "could not build the dwz-compressed workload"
ALT_ID=$(readelf -n "$TMP/served/common.debug" | awk '/Build ID/ { print $3 }')
readelf --debug-dump=info "$TMP/served/ia.debug" 2>/dev/null | grep -q 'DW_AT_name *: (alt indirect string'
ok $? "dwz moved names of ia's DWARF to the common file"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
debuginfod -F -p "$PORT" -d "$TMP/db.sqlite" -t 0 -g 0 "$TMP/served" >"$TMP/server.log" 2>&1 &
server=$!
trap 'kill -9 $server 2>/dev/null; rm -rf "$TMP"' EXIT
# Ready once it serves the file (its first scan); polled, bounded, never a fixed sleep.
python3 - "$URL/buildid/$BUILD_ID/debuginfo" <<'PY'
import sys, time, urllib.request
for _ in range(1200):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=5).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
ok $? "debuginfod on 127.0.0.1:$PORT serves the debug file" || { sed 's/^/# /' "$TMP/server.log"; done_testing; }

# Each run gets a cache of its own: the client caches misses as well as files.
trace() {	# name env-assignment memtrace-option...: on the stripped workload, JSON and text of it
	local name=$1 envset=$2; shift 2
	env "$envset" DEBUGINFOD_CACHE_PATH="$TMP/cache-$name" timeout 300 "$MEMTRACE" "$@" \
		--json "$TMP/$name.json" -o "$TMP/$name.txt" -- "$LK" >/dev/null 2>"$TMP/$name.err"
	echo $? >"$TMP/$name.rc"
}
frames() {	# the workload's own frames, as (function, file) pairs
	jpy "sorted(set((f['function'], f['file'] and f['file'].rsplit('/', 1)[-1]) for p in d['processes'] for s in p['stacks'] for f in s['frames'] if f['module'] == '$LK'))" "$1"
}
# _start is assembly: a symbol, no line.
NAMED="[('_start', None), ('churn', 'leaky.c'), ('leak_aligned_alloc', 'leaky.c'), ('leak_calloc', 'leaky.c'), ('leak_malloc', 'leaky.c'), ('leak_memalign', 'leaky.c'), ('leak_mmap', 'leaky.c'), ('leak_posix_memalign', 'leaky.c'), ('leak_realloc', 'leaky.c'), ('leak_reallocarray', 'leaky.c'), ('leak_strdup', 'leaky.c'), ('main', 'leaky.c')]"
# Its leaks as core_leaky.sh knows them (strdup's caller found through libc's CFI).
LEAKS=$(grep -v '^#' tests/workloads/leaky.sites)
leaks() { python3 tests/lib/site.py "$1" | grep '^leak_'; }
noted() {	# err what: nothing on stderr but the fetch note (when it had to wait) and kernel notes
	is_empty "$(grep -v -e '^memtrace: warning: .* on this kernel' \
		-e "^memtrace: fetching debug info of [0-9]* objects\? from debuginfod ($URL)\.\.\.\$" "$1")" \
		"$2: nothing on stderr but the one-line fetch note"
}

trace none DEBUGINFOD_URLS=
is "$(cat "$TMP/none.rc")" 0 "no server: memtrace exits 0"
is "$(frames "$TMP/none.json")" "[(None, None)]" "no server: the workload's frames are offsets"
grep -q "^ *-> lk+0x[0-9a-f]*$" "$TMP/none.txt"; ok $? "no server: the text report's sites are lk+0xOFFSET"

trace env DEBUGINFOD_URLS="$URL"
is "$(leaks "$TMP/env.json")" "$LEAKS" "DEBUGINFOD_URLS: every leak site named, exact bytes and blocks"
is "$(frames "$TMP/env.json")" "$NAMED" "DEBUGINFOD_URLS: each of the workload's frames with function and file"
grep -q -- "-> leak_malloc (leaky.c:$(grep -n -m1 'malloc(1000)' tests/workloads/leaky.c | cut -d: -f1))$" "$TMP/env.txt"
ok $? "DEBUGINFOD_URLS: text report at file:line"
noted "$TMP/env.err" "DEBUGINFOD_URLS"
[ -s "$TMP/cache-env/$BUILD_ID/debuginfo" ]; ok $? "the debug file is in the client's cache"

trace opt DEBUGINFOD_URLS= --debuginfod "$URL"
is "$(leaks "$TMP/opt.json")" "$LEAKS" "--debuginfod URL (no DEBUGINFOD_URLS): the same named sites"
noted "$TMP/opt.err" "--debuginfod"

# A recording holds the fetched names; a recording without symbols gets them at report time.
env DEBUGINFOD_URLS="$URL" DEBUGINFOD_CACHE_PATH="$TMP/cache-rec" "$MEMTRACE" record -o "$TMP/r.mtr" \
	--json "$TMP/rec-live.json" -- "$LK" >/dev/null 2>&1
env DEBUGINFOD_URLS= "$MEMTRACE" report "$TMP/r.mtr" --json "$TMP/rec-replay.json" 2>/dev/null
is "$(leaks "$TMP/rec-live.json")" "$LEAKS" "record: the named sites"
nonempty "$TMP/rec-live.json" && cmp "$TMP/rec-live.json" "$TMP/rec-replay.json"
ok $? "report of the recording, no server: the live JSON, byte for byte"
"$OUT/tools/rec_strip_symbols" "$TMP/r.mtr" "$TMP/bare.mtr" || bail "rec_strip_symbols failed"
env DEBUGINFOD_URLS= "$MEMTRACE" report "$TMP/bare.mtr" --json "$TMP/bare-none.json" 2>/dev/null
is "$(frames "$TMP/bare-none.json")" "[(None, None)]" "a recording without symbols, no server: offsets"
env DEBUGINFOD_URLS="$URL" DEBUGINFOD_CACHE_PATH="$TMP/cache-bare" "$MEMTRACE" report "$TMP/bare.mtr" \
	--json "$TMP/bare.json" -o /dev/null 2>"$TMP/bare.err"
is "$(leaks "$TMP/bare.json")" "$LEAKS" "the same with a server: named at report time"
noted "$TMP/bare.err" "report"

HELPER=$(grep -n -m1 -F "the allocation's line" tests/workloads/inline_alloc.h | cut -d: -f1)
env DEBUGINFOD_URLS="$URL" DEBUGINFOD_CACHE_PATH="$TMP/cache-dwz" timeout 300 "$MEMTRACE" \
	--json "$TMP/dwz.json" -o /dev/null -- "$IA" >/dev/null 2>"$TMP/dwz.err"
is "$(jpy "[(f['function'], f['file'].rsplit('/', 1)[-1], f['line'], f.get('inlined')) for s in d['processes'][0]['stacks'] if s['outstanding_bytes'] == 4000 for f in s['frames'][s['site']:s['site'] + 2]]" "$TMP/dwz.json")" \
	"[('make_record', 'inline_alloc.h', $HELPER, True), ('build_table', 'inline_alloc.c', $(grep -n -m1 -F "the call's line" tests/workloads/inline_alloc.c | cut -d: -f1), None)]" \
	"dwz: the inlined helper named from the common file, fetched too"
[ -s "$TMP/cache-dwz/$ALT_ID/debuginfo" ]; ok $? "dwz: the common file is in the client's cache"
noted "$TMP/dwz.err" "dwz"

# A server that is gone: one line says so, the frames stay offsets, and the run ends.
kill -9 "$server"
wait "$server" 2>/dev/null
trace dead DEBUGINFOD_URLS="$URL"
is "$(cat "$TMP/dead.rc")" 0 "killed server: memtrace exits 0 (no hang: timeout 300 did not end it)"
is "$(frames "$TMP/dead.json")" "[(None, None)]" "killed server: offsets"
is "$(grep -c '^memtrace: warning: debuginfod' "$TMP/dead.err")" 1 "killed server: one warning line"
grep -q "^memtrace: warning: debuginfod at $URL: Connection refused: [0-9]* objects\? without debug info, named by offset\$" "$TMP/dead.err"
ok $? "it names the server and the reason"
sed 's/^/# /' "$TMP/dead.err"

# A server that takes connections and never answers: given up on once nothing moved for
# DEBUGINFOD_TIMEOUT seconds (the client's own would retry twice more), with one warning.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True); time.sleep(900)' >"$TMP/silent.port" &
silent=$!
trap 'kill -9 $silent 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/silent.port" ] && break; sleep 0.05; done
SILENT=http://127.0.0.1:$(cat "$TMP/silent.port")
env DEBUGINFOD_TIMEOUT=2 DEBUGINFOD_URLS="$SILENT" DEBUGINFOD_CACHE_PATH="$TMP/cache-silent" timeout 300 \
	"$MEMTRACE" --json "$TMP/silent.json" -o /dev/null -- "$LK" >/dev/null 2>"$TMP/silent.err"
is "$?" 0 "silent server: memtrace ends, exit 0"
is "$(frames "$TMP/silent.json")" "[(None, None)]" "silent server: offsets"
is "$(grep -c '^memtrace: warning:' "$TMP/silent.err")" 1 "silent server: one warning line"
grep -q "^memtrace: warning: debuginfod at $SILENT: .* without debug info, named by offset\$" "$TMP/silent.err"
ok $? "it names the server"
sed 's/^/# /' "$TMP/silent.err"
kill -9 "$silent"
done_testing
