#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A process in its own mount namespace whose libc is its own copy, bind-mounted over the usual
# path (as a container's would be): traced with -p, its copy probed (not the host's file).
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg unshare util-linux
LIBC=$(ldd "$WL/waiter" | awk '/libc.so/ {print $3}')
cp "$LIBC" "$TMP/libc-copy.so.6"
# A machine that cannot bind-mount in a new mount namespace (a container without CAP_SYS_ADMIN)
# has nothing to test here; asked on its own, so that a waiter that fails below is a failure.
unshare -m --propagation private mount --bind "$TMP/libc-copy.so.6" "$LIBC" 2>"$TMP/unshare.err" ||
	skip_all "cannot bind-mount in a new mount namespace here: $(cat "$TMP/unshare.err")"
go=$TMP/go
unshare -m --propagation private sh -c "mount --bind '$TMP/libc-copy.so.6' '$LIBC' && exec '$WL/waiter' '$go'" >"$TMP/wout" &
pid=$!
for _ in $(seq 100); do [ -s "$TMP/wout" ] && break; sleep 0.05; done
[ -s "$TMP/wout" ] || bail "the waiter starts in its mount namespace (it said nothing in 5 s)"
host_ino=$(stat -c %i "$LIBC")
copy_ino=$(stat -c %i "$TMP/libc-copy.so.6")
grep -q " $copy_ino .*libc.so" "/proc/$pid/maps"; ok $? "the process maps its own libc copy (inode $copy_ino), not the host's ($host_ino)"
"$MEMTRACE" -v -p "$pid" --json "$TMP/r.json" -o /dev/null 2>"$TMP/err" &
mt=$!
wait_tracing "$TMP/err"
release_and_wait "$go" "$mt" "$pid"
is "$?" 0 "memtrace ends with the process"
grep -q "attached /.*libc.so.6+0x[0-9a-f]* (malloc) for pid $pid" "$TMP/err"; ok $? "malloc probed in the libc the process maps"
is "$(python3 tests/lib/site.py "$TMP/r.json")" "after_attach 21000 7" "its leaks exact, by function"
is "$(jpy "d['processes'][0]['stacks'][0]['frames'][0]['file'].endswith('waiter.c')" "$TMP/r.json")" True "symbolized through its own root"
done_testing
