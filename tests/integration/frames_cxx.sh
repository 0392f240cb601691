#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# C++ names as people read them (tests/workloads/cxx_leaky.cc): each leak site by its demangled
# name -- a namespace, a class template's member, a lambda and an operator among them -- in the
# text report, JSON (the mangled name beside), folded stacks, pprof (system_name mangled), the
# flame graph, diff, and a recording's report; --no-demangle gives the names as spelled.
source "$(dirname "$0")/../lib/tap.sh"
need_root

"$MEMTRACE" record -o "$TMP/r.mtr" --json "$TMP/r.json" --folded "$TMP/r.folded" \
	--pprof "$TMP/r.pb.gz" --flamegraph "$TMP/r.html" -- "$WL/cxx_leaky" >/dev/null 2>"$TMP/err"
is "$?" 0 "memtrace record exits 0"
"$MEMTRACE" report "$TMP/r.mtr" -n 50 -o "$TMP/r.txt" 2>/dev/null

# Each site: demangled name, mangled name, bytes, blocks (the numbers as reach_allocators.sh's).
SITES="Bag::operator+=(int)|_ZN3BagpLEi|700|2
Pool<Big, 2>::fill()|_ZN4PoolI3BigLi2EE4fillEv|3000|2
leak_cxx_malloc()|_Z15leak_cxx_mallocv|2000|4
leak_lambda()::{lambda(int)#1}::operator()(int) const|_ZZ11leak_lambdavENKUliE_clEi|1000|4
leak_new()|_Z8leak_newv|1000|5
leak_new_aligned()|_Z16leak_new_alignedv|256|2
leak_new_array()|_Z14leak_new_arrayv|9000|3
leak_new_nothrow()|_Z16leak_new_nothrowv|1400|2
store::leak_in_namespace()|_ZN5store17leak_in_namespaceEv|600|2"

# The report's sites that are C++ functions: name|mangled|bytes|blocks, by name.
cat >"$TMP/sites.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
by = {}
for s in d["processes"][0]["stacks"]:
    f = s["frames"][s["site"]] if s["frames"] else {}
    if s["kind"] == "heap" and s["outstanding_allocations"] and f.get("mangled", "").startswith("_Z"):
        b = by.setdefault((f["function"], f["mangled"]), [0, 0])
        b[0] += s["outstanding_bytes"]
        b[1] += s["outstanding_allocations"]
for (fn, m), (b, n) in sorted(by.items()):
    print("%s|%s|%d|%d" % (fn, m, b, n))
PY
is "$(python3 "$TMP/sites.py" "$TMP/r.json")" "$SITES" \
	"JSON: each site by its demangled name, its mangled name beside, exact bytes and blocks"
is "$(jpy "sorted(set(f['function'] for p in d['processes'] for s in p['stacks'] for f in s['frames'] if 'mangled' in f and f['mangled'] == f['function']))" "$TMP/r.json")" \
	"[]" "JSON: \"mangled\" only where it differs from \"function\""
is "$(jpy "[f['function'] for s in d['processes'][0]['stacks'] for f in s['frames'] if f['function'] and f['function'].startswith('_Z')]" "$TMP/r.json")" \
	"[]" "JSON: no mangled name left in any frame"

line() { grep -n -m1 -- "$1" tests/workloads/cxx_leaky.cc | cut -d: -f1; }
while IFS='|' read -r fn mangled bytes blocks; do
	grep -qF -- "-> $fn (cxx_leaky.cc:" "$TMP/r.txt"; ok $? "text report (from the recording): -> $fn (cxx_leaky.cc:N)"
done <<<"$SITES"
grep -qF -- "-> store::leak_in_namespace() (cxx_leaky.cc:$(line 'keep(new char\[300\])'))" "$TMP/r.txt"
ok $? "text report: the namespace's site at its line"

for s in 'main;Pool<Big, 2>::fill() 3000' 'main;Bag::operator+=(int) 700' \
	'main;store::leak_in_namespace() 600' \
	'main;leak_lambda();leak_lambda()::{lambda(int)#1}::operator()(int) const 1000'; do
	grep -qF -- ";$s" "$TMP/r.folded"; ok $? "folded: ...;$s"
done
! grep -q ';_Z' "$TMP/r.folded"; ok $? "folded: no mangled name"

cat >"$TMP/pp.py" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("pprof", sys.argv[2])
pp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pp)
p = pp.read(sys.argv[1])
print("\n".join(sorted(set("%s|%s" % (name, system) for name, system, _ in p["functions"].values()
                          if system.startswith("_Z") and ("leak" in name or "::" in name)))))
PY
# Every C++ function of the sites, and leak_lambda() which calls the lambda.
is "$(python3 "$TMP/pp.py" "$TMP/r.pb.gz" tests/lib/pprof.py)" \
	"$({ cut -d'|' -f1,2 <<<"$SITES"; echo 'leak_lambda()|_Z11leak_lambdav'; } | LC_ALL=C sort)" \
	"pprof: Function.name demangled, system_name mangled"

for s in 'Pool\u003cBig, 2\u003e::fill()' 'Bag::operator+=(int)' 'store::leak_in_namespace()'; do
	grep -qF "\"$s\"" "$TMP/r.html"; ok $? "flame graph: $s"
done

"$MEMTRACE" --json "$TMP/none.json" -o /dev/null -- true 2>/dev/null
"$MEMTRACE" diff "$TMP/none.json" "$TMP/r.mtr" --json "$TMP/d.json" >"$TMP/d.txt"
is "$(jpy "sorted(set(s['frames'][0].split(' (')[0] for s in d['stacks'] if s['frames'] and '::' in s['frames'][0]))" "$TMP/d.json")" \
	"['Bag::operator+=(int)', 'Pool<Big, 2>::fill()', 'leak_lambda()::{lambda(int)#1}::operator()(int) const', 'store::leak_in_namespace()']" \
	"diff: new stacks by their demangled sites"
grep -qF "new      Pool<Big, 2>::fill() (cxx_leaky.cc:" "$TMP/d.txt"; ok $? "diff: the text table too"

# --no-demangle: as the objects spell them, in a live run and in a recording's report.
"$MEMTRACE" --no-demangle --json "$TMP/raw.json" -n 50 -o "$TMP/raw.txt" --folded "$TMP/raw.folded" \
	--pprof "$TMP/raw.pb.gz" -- "$WL/cxx_leaky" >/dev/null 2>&1
is "$(python3 tests/lib/site.py "$TMP/raw.json" | grep -c '^_Z')" 9 "--no-demangle: the 9 sites by their mangled names"
is "$(jpy "sum('mangled' in f for p in d['processes'] for s in p['stacks'] for f in s['frames'])" "$TMP/raw.json")" 0 \
	"--no-demangle: no \"mangled\" key"
grep -q -- "-> _ZN5store17leak_in_namespaceEv (cxx_leaky.cc:" "$TMP/raw.txt"; ok $? "--no-demangle: text report"
grep -q ';main;_ZN3BagpLEi 700$' "$TMP/raw.folded"; ok $? "--no-demangle: folded"
python3 tests/lib/pprof.py "$TMP/raw.pb.gz" | grep -q '^0x[0-9a-f]* _Z8leak_newv \[_Z8leak_newv\] '
ok $? "--no-demangle: pprof name and system_name both as spelled"
"$MEMTRACE" report "$TMP/r.mtr" --no-demangle --json "$TMP/rawrep.json" 2>/dev/null
is "$(python3 tests/lib/site.py "$TMP/rawrep.json" | grep '^_Z' | sort)" "$(python3 tests/lib/site.py "$TMP/raw.json" | grep '^_Z' | sort)" \
	"report --no-demangle of the recording: the same mangled sites"
"$MEMTRACE" diff --no-demangle "$TMP/none.json" "$TMP/r.json" --json "$TMP/draw.json" >/dev/null
is "$(jpy "sorted(set(s['frames'][0].split(' (')[0] for s in d['stacks'] if s['frames'] and s['frames'][0].startswith('_ZN')))" "$TMP/draw.json")" \
	"['_ZN3BagpLEi', '_ZN4PoolI3BigLi2EE4fillEv', '_ZN5store17leak_in_namespaceEv']" \
	"diff --no-demangle of a JSON report: its \"mangled\" names"
done_testing
