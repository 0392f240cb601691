#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# memtrace finds glibc's thread-specific data slots by experiment (user/glibc_tsd.c); here the
# offsets it finds must equal those of struct pthread in glibc's debug info (libc6-dbg + gdb).
source "$(dirname "$0")/../lib/tap.sh"
need_root
command -v gdb >/dev/null || skip_all "gdb is not installed"
libc=$(ldd "$MEMTRACE" | awk '/libc.so/ { print $3 }')
layout=$(gdb -batch -ex 'ptype/o struct pthread' "$libc" 2>/dev/null)
echo "$layout" | grep -q specific_1stblock || skip_all "no debug info for $libc (install libc6-dbg)"
want=$(echo "$layout" | awk '/specific_1stblock\[/ { f = $2 } / \*specific\[/ { s = $2 } END { print "+" f ", +" s }')
sleep 5 & sl=$!
"$MEMTRACE" -v -p "$sl" -d 0.1 -o /dev/null 2>"$TMP/err"
kill "$sl"
got=$(sed -n 's/.*glibc thread-specific data at \(.*\)$/\1/p' "$TMP/err")
is "$got" "$want" "glibc thread-specific data offsets agree with libc's debug info"
done_testing
