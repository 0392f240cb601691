# SPDX-License-Identifier: BSD-2-Clause
# Shared by the exports_*.sh integration tests, on top of tap.sh: checks that show why they failed,
# installing readers, the fixture's exports, headless chromium and a local file server.
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# check DESC CMD...: one TAP line; on failure the command's output follows as comments.
check() {
	local desc=$1 out st
	shift
	out=$("$@" 2>&1)
	st=$?
	ok "$st" "$desc"
	[ "$st" -eq 0 ] || sed 's/^/#   /' <<<"$out" | tail -30
}

# need CMD DEBIAN-PACKAGE: install the package when CMD is missing; a failed install fails the test.
need() { need_pkg "$1" "$2"; }

# Writes every export of the fixture snapshot (tests/unit/fixture.h) into $FIX.
export_fixture() {
	FIX=$TMP/fixture
	mkdir -p "$FIX"
	make -s OUT="$OUT" "$OUT/tools/export_fixture" >/dev/null && "$OUT/tools/export_fixture" "$FIX" ||
		{ echo "not ok 1 - export_fixture writes the exports"; exit 1; }
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
	local profile rc
	profile=$(mktemp -d "$TMP/chromium.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" "$@" 2>/dev/null
	rc=$?
	rm -rf "$profile"
	return $rc
}

# serve DIR...: tests/lib/serve.mjs on the folders, on 127.0.0.1; sets PORT, stops at exit.
serve() {
	local i
	node tests/lib/serve.mjs "$@" >"$TMP/port" &
	SERVER_PID=$!
	trap 'kill $SERVER_PID 2>/dev/null; rm -rf "$TMP"' EXIT
	for i in $(seq 50); do
		PORT=$(cat "$TMP/port")
		[ -n "$PORT" ] && return
		sleep 0.1
	done
	echo "not ok 1 - start a local file server"
	exit 1
}
