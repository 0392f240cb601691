# SPDX-License-Identifier: BSD-2-Clause
# TAP helpers for integration tests: source it, call ok/is/check (or skip), end with done_testing.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
ROOT=$PWD
OUT=${OUT:-$ROOT/build}
MEMTRACE=$OUT/memtrace
WL=$OUT/workloads
TMP=$(mktemp -d /tmp/memtrace-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
_n=0 _failed=0

ok() {	# status desc: passes when status is 0; returns that verdict (`ok ... || diagnose`)
	local st=$1; shift
	_n=$((_n + 1))
	if [ "$st" -eq 0 ]; then echo "ok $_n - $*"; return 0; fi
	echo "not ok $_n - $*"
	_failed=$((_failed + 1))
	return 1
}

check() {	# desc command...: passes when the command succeeds
	local d=$1; shift
	"$@"
	ok $? "$d"
}

# is GOT WANT DESC: passes when GOT equals WANT. An empty WANT is refused: a command that failed
# (missing file, python or jq error) prints nothing on both sides, and "" = "" would pass. A check
# that really expects no output says so with is_empty.
is() {
	local got=$1 want=$2; shift 2
	if [ -z "$want" ]; then
		ok 1 "$*"
		echo "#   empty want (got '$got'): the expected value failed to compute; use is_empty to expect nothing"
		return 1
	fi
	[ "$got" = "$want" ]; ok $? "$*" && return 0
	echo "#   got '$got', want '$want'"
	return 1
}

is_empty() {	# got desc: passes when GOT is empty (nothing on stderr, no difference)
	local got=$1; shift
	[ -z "$got" ]; ok $? "$*"
	[ -z "$got" ] || echo "#   got '$got', want nothing"
}

# nonempty FILE...: every file exists and holds something; says which does not. For a check that
# would otherwise compare, count or sum over a file that was never written.
nonempty() {
	local f st=0
	for f; do [ -s "$f" ] || { echo "#   $f: $( [ -e "$f" ] && echo empty || echo missing)"; st=1; }; done
	return $st
}

# skip REASON: a check that cannot run on this machine, numbered like the others; tests/run counts
# it as skipped, never as passed.
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $*"; }

# skip_all REASON: nothing here can run on this machine (exit 77, a skipped test). After checks
# have run, the rest is one skipped check instead, so that the checks before it still count.
skip_all() {
	if [ "$_n" -gt 0 ]; then skip "$*"; done_testing; fi
	echo "# SKIP $*"
	exit 77
}

# bail REASON: the test cannot go on (a tool it needs failed): a failure, never a skip.
bail() { ok 1 "$*"; echo "1..$_n"; exit 1; }


need_root() { [ "$(id -u)" -eq 0 ] || skip_all "needs root to load BPF programs"; }

# Install Debian packages the test needs, once. Wherever the suite runs the apt archive is
# reachable, so a failed install is a failure, shown with apt's last words, never a skip.
_apt_install() {	# package...
	local log=$TMP/apt.log apt=(apt-get -qq -o DPkg::Lock::Timeout=300)	# wait out another install
	export DEBIAN_FRONTEND=noninteractive
	"${apt[@]}" install -y "$@" >"$log" 2>&1 ||
		{ "${apt[@]}" update >>"$log" 2>&1 && "${apt[@]}" install -y "$@" >>"$log" 2>&1; } ||
		{ tail -5 "$log" | sed 's/^/#   apt: /'; bail "apt-get install $* (this test needs it) failed: install it by hand, or fix apt's sources"; }
}
need_pkg() {	# command package: install PACKAGE when COMMAND is missing
	command -v "$1" >/dev/null 2>&1 && return 0
	_apt_install "$2"
	command -v "$1" >/dev/null 2>&1 || bail "$2 is installed but gives no $1 on PATH"
}
need_deb() {	# package...: install the packages not installed (libraries, debug info: no command)
	local p missing=()
	for p; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] || _apt_install "${missing[@]}"
}

# pyenv's interpreters, wherever its root is (the kernel matrix's guest has HOME=/tmp).
PYENV_DIR=${PYENV_ROOT:-$HOME/.pyenv}

# python3 found through pyenv's shim runs a bash script resolving the version first: ~0.7 s a
# call on a busy machine, and tests call it dozens of times. Resolve it once; later calls run
# the same interpreter directly.
if _py3=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$_py3" ]; then
	python3() { "$_py3" "$@"; }
fi

# valgrind ARGS...: valgrind runs the real libc's code. A memtrace -a anywhere on the machine puts
# its breakpoints into every process's libc, and valgrind then dies of SIGTRAP: say so and stop.
vg_run() {
	valgrind "$@"
	[ $? -ne $((128 + 5)) ] || bail "valgrind died of SIGTRAP: a memtrace -a elsewhere on this machine puts breakpoints into every libc; run this test alone"
}

# memtrace -p in the background, started with its stderr in FILE: wait until it says it traces.
wait_tracing() {	# file [seconds]
	local i
	# Long enough for memtrace to wait out an earlier one's probes being freed (at most 30 s,
	# user/probe/release.c): that took over 10 s on a kernel build whose uprobes free slowly.
	for ((i = 0; i < ${2:-60} * 20; i++)); do grep -q 'tracing pid' "$1" && return 0; sleep 0.05; done
	return 1
}

# Release traced workloads (they wait for the file GO), wait for them to exit, then for memtrace
# (pid MT) to end by itself, at most $WAIT_S seconds (default 30); returns memtrace's status.
release_and_wait() {	# go mt pid...
	local go=$1 mt=$2; shift 2
	touch "$go"
	wait "$@"
	timeout "${WAIT_S:-30}" tail --pid="$mt" -f /dev/null
	wait "$mt"
}

# jq-free JSON queries: jpy 'expression over d' FILE. On a missing file or a failing expression it
# prints nothing on stdout (so `is` fails) and one "# jpy: ..." line on stderr saying why.
vma_check() {	# file field: a count from memtrace -v's "vma tree checks:" line (MEMTRACE_CHECK_VMA)
	sed -n "s/.*vma tree checks: .*\b$2=\([0-9]*\).*/\1/p" "$1"
}

jpy() {
	python3 -c "import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print($1)
except Exception as e:
    sys.exit('# jpy: %s: %s: %s' % (sys.argv[1], type(e).__name__, e))" "$2"
}

done_testing() { echo "1..$_n"; [ "$_failed" -eq 0 ]; exit $?; }
