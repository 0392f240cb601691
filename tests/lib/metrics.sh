# SPDX-License-Identifier: BSD-2-Clause
# For the tests of the --metrics listener, on top of tap.sh: free ports, polling, memtrace
# listening, and `go tool pprof` set up to fetch from it.
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# The test's background processes (workloads, memtrace, servers), ended when it exits: first
# the files in RELEASE are made (what the workloads wait for), then each is killed and waited
# for, then $TMP goes. A test with more to undo calls end_all from its own EXIT trap.
PIDS=() RELEASE=()
end_all() {
	[ ${#RELEASE[@]} -eq 0 ] || touch "${RELEASE[@]}"
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap end_all EXIT

port() { echo $((20000 + RANDOM % 40000)); }

wait_for() {	# wait_for SECONDS COMMAND...: until COMMAND succeeds
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# listen ERRFILE MEMTRACE-ARGS...: memtrace ARGS --metrics 127.0.0.1:PORT in the background,
# on a free port, until it says it traces; sets MT (its pid) and MPORT. A port someone else
# holds makes it fail at once: another is tried. Any other end of memtrace is a failure of
# memtrace, shown with what it said.
listen() {
	local err=$1 try
	shift
	for try in 1 2 3 4 5; do
		MPORT=$(port)
		"$MEMTRACE" "$@" --metrics "127.0.0.1:$MPORT" 2>"$err" &
		MT=$!
		wait_for 60 grep -q "memtrace: tracing\|failed to listen" "$err"
		grep -q "memtrace: tracing" "$err" && return 0
		kill "$MT" 2>/dev/null
		wait "$MT"
		MT=
		grep -q "failed to listen on .*: Address already in use" "$err" || break
	done
	sed 's/^/#   memtrace: /' "$err"
	bail "memtrace $* --metrics 127.0.0.1:PORT starts and traces"
}

# Debian's go tool pprof, writing its fetched copies and cache under the test's directory.
need_pprof() {
	need_pkg go golang-go
	export PPROF_TMPDIR=$TMP HOME=${HOME:-$TMP} GOCACHE=$TMP/gocache
}

# pprof ARGS...: go tool pprof, its fetch chatter left out.
pprof() { go tool pprof "$@" 2>&1 | grep -v '^Fetching profile over HTTP\|^Saved profile in'; }

# top_has UNIT-VALUE FUNCTION: a `pprof -top` line on stdin whose flat value is UNIT-VALUE
# (30000B, 32) for FUNCTION.
top_has() { awk -v v="$1" -v f="$2" '$NF == f && $1 == v { found = 1 } END { exit !found }'; }
