#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The pprof export of the fixture snapshot, read by an independent reader: Go's `go tool pprof`.
source "$(dirname "$0")/../lib/exports.sh"

need go golang-go
export_fixture
export PPROF_TMPDIR=$FIX HOME=${HOME:-$FIX}

pprof() {	# pprof ARGS...: go tool pprof on the fixture's profile
	go tool pprof "$@" "$FIX/profile.pb.gz" 2>&1
}

top() {		# top INDEX ARGS...: the -top table, bytes unscaled (1572864B, not 1.50MB)
	local index=$1
	shift
	case $index in *_objects) ;; *) set -- -unit=B "$@" ;; esac
	pprof -top -nodefraction=0 ${index:+-sample_index=$index} "$@"
}

# flat_is INDEX FUNCTION VALUE [FILTER...]: FUNCTION's own (flat) value is exactly VALUE.
flat_is() {
	local index=$1 fn=$2 want=$3 out
	shift 3
	out=$(top "$index" "$@")
	echo "$out"
	awk -v fn="$fn" -v want="$want" '$NF == fn && $1 == want { found = 1 } END { exit !found }' <<<"$out"
}

total_is() {	# total_is INDEX VALUE [FILTER...]: the profile's total for INDEX is VALUE
	local index=$1 want=$2 out
	shift 2
	out=$(top "$index" "$@")
	echo "$out"
	grep -q "Total samples = $want\b" <<<"$out"
}

shown_is() {	# shown_is INDEX VALUE FILTER...: what the filters keep adds up to VALUE
	local index=$1 want=$2 out
	shift 2
	out=$(top "$index" "$@")
	echo "$out"
	grep -q "Showing nodes accounting for $want," <<<"$out"
}

check "go tool pprof reads the gzip profile" pprof -raw
check "inuse_space: leak_buffers holds exactly ${FIX_LEAK_INUSE_BYTES}B over two stacks" \
	flat_is inuse_space leak_buffers "${FIX_LEAK_INUSE_BYTES}B"
check "inuse_space is the default sample type" flat_is "" leak_buffers "${FIX_LEAK_INUSE_BYTES}B"
check "inuse_space total is ${FIX_TOTAL_OUTSTANDING}B" total_is inuse_space "${FIX_TOTAL_OUTSTANDING}B"
check "alloc_objects: leak_buffers made exactly $FIX_LEAK_ALLOC_OBJECTS allocations" \
	flat_is alloc_objects leak_buffers "$FIX_LEAK_ALLOC_OBJECTS"
check "alloc_space: leak_buffers allocated exactly ${FIX_LEAK_ALLOC_BYTES}B" \
	flat_is alloc_space leak_buffers "${FIX_LEAK_ALLOC_BYTES}B"
check "alloc_space total is ${FIX_TOTAL_ALLOCATED}B" total_is alloc_space "${FIX_TOTAL_ALLOCATED}B"
check "inuse_objects total is $FIX_TOTAL_BLOCKS" total_is inuse_objects "$FIX_TOTAL_BLOCKS"
check "a fully freed stack counts in alloc_objects only (handle_request 100)" \
	flat_is alloc_objects handle_request 100
check "stacks run leaf first: only run_server's leak (1048576B) is under run_server" \
	flat_is inuse_space leak_buffers 1048576B -focus=run_server
check "kind label: the mmap arena is the only kind=mmap sample" \
	flat_is inuse_space map_arena 8388608B -tagfocus=kind=mmap
check "pid label: pid 4343 holds 65536B" shown_is inuse_space 65536B -tagfocus=pid=4343
check "comm label: leaky holds the rest" shown_is inuse_space 9965568B -tagfocus=comm=leaky
check "comm label is present" grep -q "comm:\[cxx worker\]" <(pprof -raw)
done_testing
