#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# memtrace finds glibc's thread-specific data slots by experiment (user/probe/glibc_tsd.c); here the
# offsets it finds must equal those of struct pthread in glibc's debug info (libc6-dbg + gdb).
source "$(dirname "$0")/../lib/tap.sh"
need_root
need_pkg gdb gdb
need_deb libc6-dbg	# glibc's debug info, where gdb reads struct pthread
libc=$(ldd "$MEMTRACE" | awk '/libc.so/ { print $3 }')
layout=$(gdb -batch -ex 'ptype/o struct pthread' "$libc" 2>&1)	# gdb's complaint, if any, last
echo "$layout" | grep -q specific_1stblock ||
	bail "gdb reads struct pthread from $libc's debug info (libc6-dbg installed): $(echo "$layout" | tail -1)"
want=$(echo "$layout" | awk '/specific_1stblock\[/ { f = $2 } / \*specific\[/ { s = $2 } END { print "+" f ", +" s }')
sleep 5 & sl=$!
"$MEMTRACE" -v -p "$sl" -d 0.1 -o /dev/null 2>"$TMP/err"
kill "$sl"
got=$(sed -n 's/.*glibc thread-specific data at \(.*\)$/\1/p' "$TMP/err")
is "$got" "$want" "glibc thread-specific data offsets agree with libc's debug info"
done_testing
