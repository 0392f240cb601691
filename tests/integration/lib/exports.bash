# SPDX-License-Identifier: BSD-2-Clause
# Shared by the exports_*.sh integration tests: TAP checks, installing readers, the fixture exports.
# Sourced, not run: tests/run only runs tests/integration/*.sh.

cd "$(dirname "${BASH_SOURCE[0]}")/../../.." || exit 1
OUT=${OUT:-build}
tap_n=0
tap_failed=0

skip() {	# reason: the machine lacks what the test needs, and cannot get it
	echo "SKIP: $*"
	exit 77
}

# check DESC CMD...: one TAP line; on failure the command's output follows as comments.
check() {
	local desc=$1 out
	shift
	tap_n=$((tap_n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $tap_n - $desc"
	else
		echo "not ok $tap_n - $desc"
		tap_failed=$((tap_failed + 1))
		sed 's/^/#   /' <<<"$out" | tail -30
	fi
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
	exit
}

# need CMD DEBIAN-PACKAGE: install the package when CMD is missing, skip when that is impossible.
need() {
	command -v "$1" >/dev/null && return
	[ "$(id -u)" -eq 0 ] || skip "$1 missing and not root to apt-get install $2"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1; } ||
		skip "$1 missing and apt-get install $2 failed"
	command -v "$1" >/dev/null || skip "$2 installed but no $1 on PATH"
}

# Writes every export of the fixture snapshot (tests/unit/fixture.h) into $FIX, a fresh folder.
export_fixture() {
	make -s "$OUT/tools/export_fixture" >/dev/null || { echo "not ok 1 - build export_fixture"; exit 1; }
	FIX=$(mktemp -d)
	trap 'rm -rf "$FIX"' EXIT
	"$OUT/tools/export_fixture" "$FIX" || { echo "not ok 1 - export_fixture writes the exports"; exit 1; }
}

# Numbers from tests/unit/fixture.h, worked out there by hand.
FIX_LEAK_INUSE_BYTES=1572864
FIX_LEAK_ALLOC_BYTES=2621440
FIX_LEAK_ALLOC_OBJECTS=640
FIX_TOTAL_OUTSTANDING=10031104
FIX_TOTAL_ALLOCATED=19943424
FIX_TOTAL_BLOCKS=403

# headless ARGS...: Debian's chromium, headless, isolated, and quiet on the network.
headless() {
	local profile
	profile=$(mktemp -d)
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" "$@" 2>/dev/null
	local rc=$?
	rm -rf "$profile"
	return $rc
}

# serve DIR...: start tests/integration/lib/serve.mjs on the folders; sets PORT and SERVER_PID.
serve() {
	local portfile=$FIX/port i
	node tests/integration/lib/serve.mjs "$@" >"$portfile" &
	SERVER_PID=$!
	trap 'kill $SERVER_PID 2>/dev/null; rm -rf "$FIX"' EXIT
	for i in $(seq 50); do
		PORT=$(cat "$portfile")
		[ -n "$PORT" ] && return
		sleep 0.1
	done
	echo "not ok 1 - start a local file server"
	exit 1
}
