#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Allocators beyond glibc's malloc: C++ operator new/delete, Debian's jemalloc, tcmalloc and
# mimalloc by LD_PRELOAD (launched and attached with -p), a statically linked executable, and a
# Go program refused with one clear line. Exact outstanding bytes per function everywhere.
source "$(dirname "$0")/../lib/tap.sh"
need_root
LIB=/usr/lib/x86_64-linux-gnu
need_deb libjemalloc2 libtcmalloc-minimal4 libgoogle-perftools4 libmimalloc2.0 libc6-dev
need_pkg go golang-go

# Expected per function (tests/workloads/leaky.c and cxx_leaky.cc): function bytes blocks.
LEAKY=$(grep -v '^#' tests/workloads/leaky.sites)
CXX="Bag::operator+=(int) 700 2
Pool<Big, 2>::fill() 3000 2
leak_cxx_malloc() 2000 4
leak_lambda()::{lambda(int)#1}::operator()(int) const 1000 4
leak_new() 1000 5
leak_new_aligned() 256 2
leak_new_array() 9000 3
leak_new_nothrow() 1400 2
store::leak_in_namespace() 600 2"

# Each report is read once, by one python3: its sums per call-site function (tests/lib/site.py)
# as "site FUNCTION BYTES BLOCKS" lines, tab-separated (C++ names have spaces), then
# "summary UNKNOWN_FREES LOST_EVENTS FREES".
cat >"$TMP/facts.py" <<'PY'
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("site_sums", sys.argv[2])
site_sums = importlib.util.module_from_spec(spec)
spec.loader.exec_module(site_sums)
d = json.load(open(sys.argv[1]))
for f, b, n in site_sums.by_site(d):
	print("site\t%s\t%d\t%d" % (f, b, n))
print("summary\t%d\t%d\t%d" % (d["summary"]["unknown_frees"], d["summary"]["lost_events"], d["summary"]["frees"]))
PY
facts() { python3 "$TMP/facts.py" "$1" "$ROOT/tests/lib/site.py" >"$1.facts"; }	# report
sites() { awk -F'\t' '$1 == "site" { print $2, $3, $4 }' "$1.facts" | grep -E '^(leak_|Bag::|Pool<|store::)'; }
frees() { awk -F'\t' '$1 == "summary" { print $4 }' "$1.facts"; }
clean() {	# report name: every free matched, nothing lost, no churn held
	is "$(awk -F'\t' '$1 == "summary" { print $2, $3 }' "$1.facts")" "0 0" "$2: every free matched, none lost"
	# (mimalloc's realloc(p, 0) frees p but returns a new 0-byte block: bytes, not blocks, are 0)
	# (no summary line: the report was not read, and there is nothing to sum)
	is "$(awk -F'\t' '$1 == "site" && $2 ~ /^churn(\(\))?$/ {b += $3} $1 == "summary" {s = 1}
		END {print s ? b + 0 : "no report"}' "$1.facts")" 0 "$2: churn holds no bytes"
}

# C++ on glibc: operator new is probed in libstdc++ (its malloc folds into it), delete goes to free.
"$MEMTRACE" --json "$TMP/cxx.json" -o /dev/null -- "$WL/cxx_leaky" >/dev/null
facts "$TMP/cxx.json"
is "$(sites "$TMP/cxx.json")" "$CXX" "C++ on glibc: new, new[], nothrow, aligned new and malloc, exact per function"
clean "$TMP/cxx.json" "C++ on glibc"
is "$(frees "$TMP/cxx.json")" 3000 "C++ on glibc: 3000 deletes (sized, unsized, aligned), each counted once"
is "$(jpy "[s['frames'][0]['function'] for s in d['processes'][0]['stacks'] if s['outstanding_allocations'] and s['frames'][s['site']]['function'] == 'leak_new()'][0]" "$TMP/cxx.json")" \
	"leak_new()" "C++ on glibc: the first frame is the caller of operator new, not libstdc++"

for lib in libjemalloc.so.2 libtcmalloc_minimal.so.4 libtcmalloc.so.4 libmimalloc.so.2; do
	rm -f "$TMP/c.json" "$TMP/x.json"	# no report of the library before read for this one
	LD_PRELOAD=$LIB/$lib "$MEMTRACE" -v --json "$TMP/c.json" -o /dev/null -- "$WL/leaky" >/dev/null 2>"$TMP/v"
	facts "$TMP/c.json"
	grep -q "leaky: malloc() in .*/$lib\$" "$TMP/v"; ok $? "$lib: malloc bound to the preloaded library"
	grep -q "leaky: reallocarray() in .*/libc.so" "$TMP/v" || grep -q "leaky: reallocarray() in .*/$lib\$" "$TMP/v"
	ok $? "$lib: a function it lacks stays bound where the linker binds it"
	is "$(sites "$TMP/c.json")" "$LEAKY" "$lib: C workload, exact bytes and blocks per function"
	clean "$TMP/c.json" "$lib C"
	LD_PRELOAD=$LIB/$lib "$MEMTRACE" --json "$TMP/x.json" -o /dev/null -- "$WL/cxx_leaky" >/dev/null
	facts "$TMP/x.json"
	is "$(sites "$TMP/x.json")" "$CXX" "$lib: C++ workload, exact per function (its own operator new/delete)"
	clean "$TMP/x.json" "$lib C++"
	n=$(frees "$TMP/x.json")
	[ -n "$n" ] && [ "$n" -ge 3000 ]; ok $? "$lib: the 3000 deletes are seen (${n:-no report})"
done

# -p on a running process with jemalloc preloaded: the binding is read from its mappings.
go=$TMP/go
LD_PRELOAD=$LIB/libjemalloc.so.2 "$WL/waiter" "$go" >"$TMP/wout" &
pid=$!
for _ in $(seq 100); do [ -s "$TMP/wout" ] && break; sleep 0.05; done
"$MEMTRACE" -v -p "$pid" --json "$TMP/p.json" -o /dev/null 2>"$TMP/perr" &
mt=$!
wait_tracing "$TMP/perr"
release_and_wait "$go" "$mt" "$pid"
grep -q "process $pid (waiter): malloc() in .*/libjemalloc.so.2\$" "$TMP/perr"; ok $? "-p: malloc of a jemalloc process found in its mappings"
is "$(python3 tests/lib/site.py "$TMP/p.json")" "after_attach 21000 7" "-p: jemalloc process, exact bytes after attach"

# A statically linked executable: its own malloc, from its symbol table.
if gcc -static -g -O1 -fno-omit-frame-pointer -fno-inline tests/workloads/leaky.c -o "$TMP/leaky_static" 2>"$TMP/cc.err"; then
	"$MEMTRACE" --json "$TMP/s.json" -o /dev/null -- "$TMP/leaky_static" >/dev/null
	facts "$TMP/s.json"
	# strdup is the executable's own code here, so it is the call site; leak_strdup is its caller.
	is "$(sites "$TMP/s.json")" "$(grep -v '^leak_strdup ' <<<"$LEAKY")" "static executable: exact bytes and blocks per function"
	is "$(jpy "sorted((s['outstanding_bytes'], s['outstanding_allocations']) for p in d['processes'] for s in p['stacks'] if s['kind'] == 'heap' and 'strdup' in (s['frames'][s['site']]['function'] or '') and len(s['frames']) > s['site'] + 1 and s['frames'][s['site'] + 1]['function'] == 'leak_strdup')" "$TMP/s.json")" \
		"[(600, 6)]" "static executable: strdup (its own copy) is the site, called by leak_strdup: 600 B in 6"
	clean "$TMP/s.json" "static"
else
	sed 's/^/#   gcc: /' "$TMP/cc.err"
	ok 1 "static executable: gcc -static builds leaky.c (libc6-dev's libc.a)"
fi

# Go: uretprobes would corrupt its stacks; refused before anything runs.
if mkdir -p "$TMP/gosrc" && printf 'package main\nfunc main() { println("go ran") }\n' >"$TMP/gosrc/main.go" &&
	(cd "$TMP/gosrc" && GO111MODULE=off go build -o hello main.go) 2>"$TMP/go.err"; then
	"$MEMTRACE" -- "$TMP/gosrc/hello" >"$TMP/gout" 2>"$TMP/gerr"
	is "$?" 4 "Go program: exit status 4 (target cannot be traced)"
	is "$(wc -l <"$TMP/gerr")" 1 "Go program: one line"
	grep -q "refusing to trace .*hello: it is a Go program" "$TMP/gerr"; ok $? "Go program: says why"
	is_empty "$(cat "$TMP/gout")" "Go program: never started"
else
	sed 's/^/#   go: /' "$TMP/go.err"
	ok 1 "Go program: go build makes one"
fi
done_testing
