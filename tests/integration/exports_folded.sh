#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The folded exports of the fixture snapshot, read by an independent reader: speedscope's own
# importer (npm package), run in headless chromium, its sandwich table read back from the DOM.
# (No Debian package ships flamegraph.pl.)
source "$(dirname "$0")/../lib/exports.sh"

SPEEDSCOPE_VERSION=1.25.0
need node nodejs
need npm npm
need chromium chromium
release=$OUT/npm/node_modules/speedscope/dist/release
if [ ! -e "$release/index.html" ]; then
	# The npm registry is reachable wherever the suite runs: a failed install is a failure.
	npm install --prefix "$OUT/npm" --no-audit --no-fund --silent "speedscope@$SPEEDSCOPE_VERSION" \
		>"$TMP/npm.log" 2>&1 ||
		{ tail -5 "$TMP/npm.log" | sed 's/^/#   npm: /'; bail "npm install speedscope@$SPEEDSCOPE_VERSION"; }
fi
export_fixture
serve "$release" "$FIX"

imported() {	# imported NAME: speedscope titled the page after the file, so it parsed it
	grep -q "<title>$1 - speedscope</title>" "$FIX/$1.dom" && [ -s "$FIX/$1.table" ]
}

# sandwich NAME: speedscope's table for $FIX/NAME as "total<TAB>self<TAB>name" in $FIX/NAME.table.
# A second load if the first showed no import: once in a full suite, headless chromium dumped a
# page that had not loaded the file at all (the next file's load, the same command, worked).
sandwich() {
	local url="http://127.0.0.1:$PORT/index.html#profileURL=http://127.0.0.1:$PORT/$1&view=sandwich"
	local try
	for try in 1 2; do
		headless --window-size=1400,900 --virtual-time-budget=15000 --dump-dom "$url" >"$FIX/$1.dom"
		node tests/lib/speedscope_table.mjs <"$FIX/$1.dom" >"$FIX/$1.table"
		imported "$1" && return
		echo "# speedscope showed no import of $1 (load $try): $(head -c 300 "$FIX/$1.dom" | tr '\n' ' ')"
	done
}

row_is() {	# row_is NAME COLUMN(1 total, 2 self) FUNCTION VALUE
	cat "$FIX/$1.table"
	awk -F'\t' -v c="$2" -v fn="$3" -v want="$4" '$3 == fn && $c == want { found = 1 }
		END { exit !found }' "$FIX/$1.table"
}

self_sum_is() {	# self_sum_is NAME VALUE: self values add up to the whole profile
	local sum
	sum=$(awk -F'\t' '{ s += $2 } END { printf "%d", s }' "$FIX/$1.table")
	echo "self values add up to $sum"
	[ "$sum" = "$2" ]
}

lines_sum_is() {	# lines_sum_is NAME VALUE: our own file's values add up the same
	local sum
	sum=$(awk '{ s += $NF } END { printf "%d", s }' "$FIX/$1")
	echo "lines add up to $sum"
	[ "$sum" = "$2" ]
}

# file, total, leak_buffers, the C++ frame with spaces, the mmap arena
while read -r file total leak cxx mmap; do
	sandwich "$file"
	check "speedscope imports $file" imported "$file"
	check "$file: values add up to $total in speedscope" self_sum_is "$file" "$total"
	check "$file: and in the file itself" lines_sum_is "$file" "$total"
	check "$file: main's total is everything ($total)" row_is "$file" 1 main "$total"
	check "$file: leak_buffers' self is $leak over two stacks" row_is "$file" 2 leak_buffers "$leak"
	check "$file: a name with spaces survives whole ($cxx)" row_is "$file" 2 \
		"std::vector<int, std::allocator<int> >::_M_realloc_insert" "$cxx"
	check "$file: the [mmap] marker frame holds the arena ($mmap)" row_is "$file" 1 "[mmap]" "$mmap"
done <<EOT
outstanding.folded $FIX_TOTAL_OUTSTANDING $FIX_LEAK_INUSE_BYTES 65536 8388608
allocated.folded $FIX_TOTAL_ALLOCATED $FIX_LEAK_ALLOC_BYTES 131072 16777216
blocks.folded $FIX_TOTAL_BLOCKS 384 16 2
EOT
done_testing
