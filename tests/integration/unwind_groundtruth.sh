#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# memtrace's CFI stacks against an independent unwinder: gdb, stopped at every 37th malloc of
# Debian's sqlite3 (on a SQL workload) and python3, walks the stack with its own DWARF unwinder
# (tests/tools/gdb_malloc_stacks.py). Each sampled stack must be one memtrace recorded, frame for
# frame, object and address in it for object and address. And at least 95% of
# sqlite3's stacks must reach main (the caller of __libc_start_call_main; sqlite3 is stripped).
source "$(dirname "$0")/../lib/tap.sh"
MT=$(realpath "$OUT/memtrace")
PY=/usr/bin/python3
need_root
need_pkg gdb gdb
need_pkg jq jq
need_pkg setarch util-linux
need_pkg sqlite3 sqlite3
need_pkg "$PY" python3
tmp=$TMP

cat >"$tmp/w.sql" <<'SQL'
create table t(id integer primary key, name text, v real);
with recursive c(x) as (select 1 union all select x+1 from c where x < 3000)
insert into t select x, printf('name-%08d-%s', x, hex(randomblob(8))), x * 1.5 from c;
create index ti on t(name);
select count(*), sum(v) from t where name like 'name-00001%';
update t set v = v * 2 where id % 3 = 0;
select substr(name, 1, 10) as p, count(*) from t group by p order by 2 desc limit 3;
delete from t where id % 5 = 0;
select count(*) from t;
SQL
cat >"$tmp/w.py" <<'PY'
import json
rows = [{"k": str(i) * 40, "v": list(range(i % 50))} for i in range(20000)]
text = json.dumps(rows)
print(len(json.loads(text)))
PY

# Samples from gdb (lines of return addresses ending "end", or "cut" where gdb went astray),
# and memtrace's stacks as lines of addresses; then: is each sample among memtrace's stacks?
compare() {	# name
	$PY - "$tmp/$1.gdb" "$tmp/$1.json" <<'PYCHECK'
import json, sys
samples = [l.split() for l in open(sys.argv[1]) if l.strip()]
# One entry per physical frame: an address's inlined calls are frames of their own in the report.
stacks = [tuple("%s:%s" % (f["module"], f["module_offset"]) for f in s["frames"] if not f.get("inlined"))
          for p in json.load(open(sys.argv[2]))["processes"] for s in p["stacks"]]
exact = set(stacks)
bad = 0
for s in samples:
    pcs, how = tuple(s[:-1]), s[-1]
    hit = pcs in exact if how == "end" else any(st[:len(pcs)] == pcs for st in stacks)
    if not hit:
        bad += 1
        print("# no memtrace stack matches gdb's: %s" % " ".join(s))
print("# %d of %d gdb samples matched (%d where gdb's walk went astray: compared before that)"
      % (len(samples) - bad, len(samples), sum(s[-1] == "cut" for s in samples)))
sys.exit(1 if bad or len(samples) < 20 else 0)
PYCHECK
}

ground_truth() {	# name, command...
	local name=$1; shift
	MT_OUT=$tmp/$name.gdb MT_EVERY=37 MT_SAMPLES=40 gdb -q -batch \
		-x tests/tools/gdb_malloc_stacks.py --args "$@" >"$tmp/$name.gdblog" 2>&1
	# Native frames only: gdb's walk knows no Python frames (memtrace's mixed view replaces the
	# eval loop's frames with them; README "Python programs").
	setarch -R "$MT" --unwind dwarf --python-frames off --json "$tmp/$name.json" -- "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err"
	check "$name: gdb took at least 20 samples" [ "$(wc -l <"$tmp/$name.gdb")" -ge 20 ]
	check "$name: memtrace agrees with gdb frame for frame on every sample" compare "$name"
	check "$name: no unsupported CFI rule met" bash -c 'jq -e "
		.lost_events_by_reason.unwind_unsupported == 0" "$1" >/dev/null' _ "$tmp/$name.json"
	# A module dlopened later (python's _json) is loaded when BPF first meets it, and
	# bpf_find_vma() fails when the mmap lock is contended: such frames are counted (and the
	# fallback's read faults after them) and must stay rare.
	check "$name: unwinding failures under 1% of allocations" bash -c 'jq -e "
		(.lost_events_by_reason | .unwind_no_table + .unwind_read_fault) * 100
			<= .summary.allocations" "$1" >/dev/null' _ "$tmp/$name.json"
}

ground_truth sqlite3 "$(command -v sqlite3)" :memory: ".read $tmp/w.sql"
ground_truth python3 $PY -S "$tmp/w.py"

reach=$(jq -r '[.processes[0].stacks[] | [.frames[].function] | index("__libc_start_call_main") // 0 | select(. > 0)]
	| length' "$tmp/sqlite3.json")
total=$(jq -r '.processes[0].stacks | length' "$tmp/sqlite3.json")
echo "# sqlite3: $reach of $total stacks reach main"
check "sqlite3: at least 95% of stacks reach main ($reach of $total)" \
	bash -c '[ "${2:-0}" -gt 0 ] && [ $(($1 * 100)) -ge $(($2 * 95)) ]' _ "${reach:-0}" "${total:-0}"
done_testing
