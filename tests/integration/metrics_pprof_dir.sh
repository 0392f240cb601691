#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# --pprof-dir DIR --pprof-every 1 writes complete, atomically renamed profiles that go tool pprof
# reads; the last one shows hold_blocks holding exactly its 30000 B.
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg go golang-go
export PPROF_TMPDIR=$TMP HOME=${HOME:-$TMP}

DIR=$TMP/profiles
mkdir -p "$DIR"
touch "$TMP/go"
"$MEMTRACE" --pprof-dir "$DIR" --pprof-every 1 -- "$WL/hold" 30 "$TMP/go" "$TMP/stop" \
	>"$TMP/hold.out" 2>"$TMP/mt.err" &
MT=$!
trap 'touch "$TMP/stop"; kill $MT 2>/dev/null; wait $MT 2>/dev/null; rm -rf "$TMP"' EXIT

end=$((SECONDS + 60))
until [ "$(ls "$DIR" | grep -c '\.pb\.gz$')" -ge 2 ] || [ "$SECONDS" -ge "$end" ]; do sleep 0.2; done
touch "$TMP/stop"
wait "$MT"
is $? 0 "memtrace exits with the command's status"
mapfile -t files < <(ls "$DIR" | sort)
ok $((${#files[@]} < 3)) "at least 2 periodic profiles and a last one (${#files[@]} files)"
bad=$(printf '%s\n' "${files[@]}" | grep -cv '^memtrace-[0-9]*-[0-9]\{8\}T[0-9]\{6\}\.[0-9]\{3\}Z\.pb\.gz$')
is "$bad" 0 "every name is memtrace-<pid>-<UTC time>.pb.gz, no temporary left"
is "$(printf '%s\n' "${files[@]}" | cut -d- -f2 | sort -u | grep -c '^[0-9]\+$')" 1 \
	"one pid, the command's, names every profile"
read_all=$((${#files[@]} == 0))	# no profile read is no proof
for f in "${files[@]}"; do
	go tool pprof -top -unit=B "$DIR/$f" >"$TMP/top.txt" 2>&1 || { read_all=1; cat "$TMP/top.txt"; }
done
ok "$read_all" "go tool pprof -top reads every profile"
# The name's time is the profile's own (time_nanos): the moment its snapshot was taken.
stamps=0
for f in "${files[@]}"; do
	t=$(go tool pprof -raw "$DIR/$f" 2>/dev/null | sed -n 's/^Time: \([0-9-]*\) \([0-9:]*\)\.\([0-9]\{3\}\).* UTC$/\1T\2.\3Z/p' | tr -d ':-')
	[ -n "$t" ] && [ "${f%.pb.gz}" = "memtrace-$(echo "$f" | cut -d- -f2)-$t" ] && stamps=$((stamps + 1))
done
is "$stamps" "${#files[@]}" "every profile's time_nanos is the time in its name"
last=${files[${#files[@]}-1]}
go tool pprof -top -unit=B -nodefraction=0 -sample_index=inuse_space "$DIR/$last" 2>&1 | tee "$TMP/top.txt"
awk '$NF == "hold_blocks" && $1 == "30000B" { f = 1 } END { exit !f }' "$TMP/top.txt"
ok $? "the last profile: hold_blocks holds exactly 30000B"
go tool pprof -top -nodefraction=0 -sample_index=alloc_objects "$DIR/$last" 2>&1 >"$TMP/top.txt"
awk '$NF == "hold_blocks" && $1 == "32" { f = 1 } END { exit !f }' "$TMP/top.txt"
ok $? "the last profile: hold_blocks made 32 allocations"

# A Python program: the periodic profiles name its Python frames as the final report does.
if /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	PD=$TMP/pyprofiles
	mkdir -p "$PD"
	"$MEMTRACE" --no-live -o /dev/null --pprof-dir "$PD" --pprof-every 1 -- /usr/bin/python3 \
		tests/workloads/py_lines.py "$TMP/wl.json" --no-tracemalloc --small 2000 --go "$TMP/pygo" \
		>"$TMP/py.out" 2>"$TMP/py.err" &
	PMT=$!
	# A profile taken after the script's imports ("ready"), while it waits for the go file. The
	# first to appear after ready may have been taken before it (its symbolizing takes a while):
	# the second was taken once the first was written.
	end=$((SECONDS + 60))
	until grep -q ready "$TMP/py.out" || [ "$SECONDS" -ge "$end" ]; do sleep 0.1; done
	before=$(ls "$PD" | grep -c '\.pb\.gz$')
	until [ "$(ls "$PD" | grep -c '\.pb\.gz$')" -gt $((before + 1)) ] || [ "$SECONDS" -ge "$end" ]; do
		sleep 0.2
	done
	first=$(ls "$PD" | grep '\.pb\.gz$' | sort | tail -1)
	touch "$TMP/pygo"
	wait "$PMT"
	go tool pprof -top -nodefraction=0 -sample_index=alloc_space "$PD/$first" >"$TMP/pytop.txt" 2>&1
	grep -q ' FileLoader.get_data$' "$TMP/pytop.txt"; ok $? "a periodic profile of a Python program names its Python frames (importlib's FileLoader.get_data)"
else
	skip "/usr/bin/python3 is not CPython 3.11"
fi
done_testing
