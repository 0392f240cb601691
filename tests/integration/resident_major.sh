#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Major page faults (tests/workloads/majfault.c): an 8 MiB file, written, fsynced and dropped from
# the page cache, is mapped and read page by page in read_file_pages(). The pages come from the
# disk: memtrace must count major faults there, as many as the kernel counted (getrusage around
# the function, in the same run), and the 8 MiB the faults read in, under the file's path.
source "$(dirname "$0")/../lib/tap.sh"
need_root

SIZE=$((8 << 20))
run() {	# directory for the file: 0 = ran, 3 = the page cache kept the file
	DATA=$1/majfault.dat
	"$MEMTRACE" --json "$TMP/r.json" -o "$TMP/report.txt" -- "$WL/majfault" "$DATA" 8 >"$TMP/stdout"
	local st=$?
	rm -f "$DATA"
	return $st
}
# /tmp may be tmpfs, whose pages never leave memory; the build folder is usually on a disk.
run "$TMP"; st=$?
[ $st -eq 3 ] && { run "$OUT"; st=$?; dir=$OUT; } || dir=$TMP
[ $st -eq 3 ] && skip_all "the page cache would not drop the file: $(grep 'cannot drop' "$TMP/stdout")"
# Once in some 50 runs the kernel itself counted no major fault (getrusage said 0, and no page was
# allocated): the file was back in the page cache between mincore() and the reads. memtrace agreed
# then too, but there was nothing to test: run again, at most twice more.
for try in 1 2; do
	[ $st -eq 0 ] && grep -qx 'majflt 0' "$TMP/stdout" || break
	echo "# the kernel counted no major fault; again"
	run "$dir"; st=$?
done
[ $st -eq 0 ] && grep -qx 'majflt 0' "$TMP/stdout" && skip_all "the kernel counted no major fault in 3 runs"
is "$st" 0 "memtrace exits with the workload's status"
grep -q '^majfault done' "$TMP/stdout"; ok $? "the workload ran"
sed 's/^/# workload: /' "$TMP/stdout"
kernel() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/stdout"; }
is "$(kernel cached_before)" 0 "mincore: no page of the file was cached before the reads"
is "$(kernel cached_after)" "$(kernel file_pages)" "mincore: every page of the file was cached after them"

python3 tests/lib/faults.py "$TMP/r.json" >"$TMP/all"
python3 tests/lib/faults.py "$TMP/r.json" file >"$TMP/file"
sed 's/^/# file faults: /' "$TMP/file"
f() { awk -v f=read_file_pages -v c="$2" '$1 == f { print $c }' "$TMP/$1"; }	# minor 2, major 3, bytes 4

# The kernel counts a fault as major when it had to read from the disk (or retried after waiting
# for it). That is once per read-around, not per page: the first fault reads a window around
# itself and starts readahead; later faults find their pages cached (mapped 16 at a time by
# fault-around) and are minor. So the number is the kernel's to choose: at least one, and exactly
# what getrusage saw, since both counts come from the same place (mm_account_fault).
majors=$(f file 3)
[ "${majors:-0}" -ge 1 ]; ok $? "read_file_pages: at least one major fault (got ${majors:-none})"
is "$majors" "$(kernel majflt)" "read_file_pages: major faults = the kernel's count (getrusage)"
is "$(f all 2)" "$(kernel minflt)" "read_file_pages: minor faults = the kernel's count (getrusage)"

# Each page of the file is allocated once, by the read-around or readahead that one of these faults
# started (readahead runs in the faulting thread; only the I/O completes later), never past the
# end of the file: so at least the file's size, and in 49 of 50 runs exactly that. Once, a fault
# was retried (2 major) and 3 pages more were allocated in it: pages allocated during a fault that
# did not stay. One readahead window (read_ahead_kb, 128 KiB by default) is a generous bound for
# that excess, not a kernel guarantee.
SLACK=$((128 << 10))
bytes=$(f file 4)
[ "${bytes:-0}" -ge "$SIZE" ] && [ "$bytes" -le $((SIZE + SLACK)) ]
ok $? "read_file_pages: 8 MiB read in, the file's size, + at most 128 KiB (got ${bytes:-none})"
is "$(jpy "[(x['major_faults'] >= 1, $SIZE <= x['bytes'] <= $SIZE + $SLACK) for x in d['processes'][0]['resident']['files'] if x['path'] == '$DATA']" "$TMP/r.json")" \
	"[(True, True)]" "by file: the file's path, its major faults and 8 MiB"
# The rest of the run faults too (loading the program): on a busy machine, whose page cache
# turns over, a page of libc can be read back from the disk, so the file mappings may have more
# major faults than read_file_pages. The whole run's count is the kernel's at the end.
is "$(jpy "d['processes'][0]['resident']['major_faults']" "$TMP/r.json")" "$(kernel majflt_all)" \
	"the process's major faults are the whole run's (getrusage at its end)"
file_majors=$(jpy "d['processes'][0]['resident']['by_mapping']['file']['major_faults']" "$TMP/r.json")
[ "${file_majors:-0}" -ge "${majors:-1}" ]; ok $? "by mapping: file mappings had read_file_pages' major faults at least (${file_majors:-none} >= ${majors:-none})"
grep -Eq "^  file .* \(.* minor, $file_majors major\)" "$TMP/report.txt"; ok $? "text report: major faults on the file line"
grep -Eq "touched \+8\.[01] MiB \(file\) by read_file_pages \(majfault.c:" "$TMP/report.txt"
ok $? "text report: read_file_pages touched 8 MiB of file"
is "$(jpy "d['lost_events_by_reason']['ringbuf_full']" "$TMP/r.json")" 0 "no event lost"
done_testing
