#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# -f on a shell script that starts two leaky children (one in the background): both children's
# leaks reported exactly, each under its own pid and command line, with the tree's total.
source "$(dirname "$0")/../lib/tap.sh"
need_root

cat >"$TMP/two.sh" <<SH
#!/bin/sh
"$WL/leaky" 0 &
"$WL/cxx_leaky"
wait
exit 7
SH
chmod +x "$TMP/two.sh"

"$MEMTRACE" -f --json "$TMP/f.json" -o "$TMP/f.txt" -- "$TMP/two.sh" >"$TMP/out"
is "$?" 7 "exit status is the script's"
is "$(sort "$TMP/out" | tr '\n' ' ')" "cxx_leaky done leaky done " "both children ran"
is "$(jpy "sorted(p['comm'] for p in d['processes'])" "$TMP/f.json")" "['cxx_leaky', 'leaky', 'two.sh']" \
	"three processes: the script and both children, renamed at their exec"
per() {	# comm: that process's per-function sites
	python3 - "$TMP/f.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
by = {}
for p in d["processes"]:
    if p["comm"] != sys.argv[2]:
        continue
    for s in p["stacks"]:
        if s["kind"] == "heap" and s["outstanding_allocations"] and s["frames"]:
            f = s["frames"][s["site"]]["function"] or "?"
            if "leak" in f or "::" in f:
                b = by.setdefault(f, [0, 0]); b[0] += s["outstanding_bytes"]; b[1] += s["outstanding_allocations"]
print(" ".join(f"{f}={b[0]}/{b[1]}" for f, b in sorted(by.items())))
PY
}
is "$(per leaky)" "leak_aligned_alloc=4096/2 leak_calloc=8400/4 leak_malloc=10000/10 leak_memalign=9692/3 leak_posix_memalign=9000/3 leak_realloc=20000/1 leak_reallocarray=300/1 leak_strdup=600/6" \
	"background child (fork + exec of a C program): exact leaks per function"
is "$(per cxx_leaky)" "Bag::operator+=(int)=700/2 Pool<Big, 2>::fill()=3000/2 leak_cxx_malloc()=2000/4 leak_lambda()::{lambda(int)#1}::operator()(int) const=1000/4 leak_new()=1000/5 leak_new_aligned()=256/2 leak_new_array()=9000/3 leak_new_nothrow()=1400/2 store::leak_in_namespace()=600/2" \
	"foreground child (C++): exact leaks per function"
is "$(jpy "d['summary']['outstanding_bytes'] == sum(p['summary']['outstanding_bytes'] for p in d['processes'])" "$TMP/f.json")" True \
	"the tree total is the sum of its processes"
is "$(jpy "d['summary']['lost_events'], sum(p['summary']['unknown_frees'] for p in d['processes'] if p['comm'] != 'two.sh')" "$TMP/f.json")" "0 0" \
	"nothing lost; children traced from their first instruction (every free matched)"
is "$(jpy "[p['cmdline'] for p in d['processes'] if p['comm'] == 'leaky'][0]" "$TMP/f.json")" "$WL/leaky 0" "a child's command line is its own"
grep -q "^all processes, heap:" "$TMP/f.txt"; ok $? "text report: the tree total first"
is "$(awk '$1 ~ /^[0-9]+$/ && NF >= 5 {print $2}' "$TMP/f.txt" | head -3 | tr '\n' ' ')" "cxx_leaky leaky two.sh " \
	"text report: one line per process, largest first"

# Without -f only the script itself is traced.
"$MEMTRACE" --json "$TMP/nof.json" -o /dev/null -- "$TMP/two.sh" >/dev/null
is "$(jpy "[p['comm'] for p in d['processes']]" "$TMP/nof.json")" "['two.sh']" "without -f the children are not traced"
done_testing
