#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The flame graph page of the fixture snapshot, loaded in headless chromium: the frames its script
# builds are in the DOM with their bytes, and a screenshot shows them painted at their width.
source "$(dirname "$0")/../lib/exports.sh"

need node nodejs
need chromium chromium
export_fixture
page="file://$FIX/flamegraph.html"
size=--window-size=1200,400

headless "$size" --dump-dom "$page" >"$FIX/dom.html"
headless "$size" --screenshot="$FIX/shot.png" "$page" >/dev/null
[ -n "${KEEP_SCREENSHOT:-}" ] && cp "$FIX/shot.png" "$KEEP_SCREENSHOT"

frame() {	# frame NAME: the opening tags of NAME's frame elements in the rendered DOM
	grep -o "<div class=\"f[^\"]*\" data-name=\"$1\"[^>]*>" "$FIX/dom.html"
}

has_frame() {	# has_frame NAME BYTES BLOCKS: a frame element carries NAME, BYTES and BLOCKS
	frame "$1"
	frame "$1" | grep -q "data-bytes=\"$2\" data-blocks=\"$3\""
}

title_has() {	# title_has NAME TEXT: the frame's hover title carries TEXT
	frame "$1" | grep -q "title=\"[^\"]*$2"
}

# painted NAME: the screenshot has NAME's colour over most of the boxes the DOM gives its frames
# (each box's width less borders, times the row's inner height; labels cover a little).
painted() {
	local tags width rgb count
	tags=$(frame "$1")
	width=$(sed -n 's/.*width: \([0-9.]*\)px.*/\1/p' <<<"$tags" | awk '{ w += $1 - 2 } END { print w }')
	rgb=$(sed -n '1s/.*background: rgb(\([0-9]*\), \([0-9]*\), \([0-9]*\)).*/\1,\2,\3/p' <<<"$tags")
	[ -n "$width" ] && [ -n "$rgb" ] || { echo "no width or colour in: $tags"; return 1; }
	count=$(node tests/lib/png_count.mjs "$FIX/shot.png" "$rgb" | awk 'NR == 2 { print $2 }')
	echo "$1: rgb($rgb), ${width}px wide inside borders, $count pixels painted"
	awk -v w="$width" -v n="$count" 'BEGIN { exit !(n >= 0.8 * w * 15 && n <= w * 15 + 100) }'
}

# The same page driven by tests/lib/flamegraph_drive.js: search, hover, toggle, zoom, reset.
{ sed '/<\/body>/,$d' "$FIX/flamegraph.html"; echo '<script>'; cat tests/lib/flamegraph_drive.js
  echo '</script></body></html>'; } >"$FIX/driven.html"
headless "$size" --dump-dom "file://$FIX/driven.html" |
	sed -n '/<pre id="result">/,/<\/pre>/p' | sed 's/<[^>]*>//g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g' >"$FIX/driven"
fact() { grep -x -- "$1" "$FIX/driven" || { cat "$FIX/driven"; return 1; }; }

check "the page renders frames in headless chromium" grep -q 'class="f' "$FIX/dom.html"
check "root frame holds all $FIX_TOTAL_OUTSTANDING outstanding bytes" \
	has_frame all "$FIX_TOTAL_OUTSTANDING" "$FIX_TOTAL_BLOCKS"
check "leak_buffers under run_server: 1048576 bytes, 256 blocks" has_frame leak_buffers 1048576 256
check "leak_buffers under retry_loop: 524288 bytes, 128 blocks" has_frame leak_buffers 524288 128
check "the mmap arena is under its [mmap] marker" has_frame "\[mmap\]" 8388608 2
check "map_arena: 8388608 bytes, 2 blocks" has_frame map_arena 8388608 2
check "the fully freed stack is not drawn for outstanding bytes" \
	bash -c "grep -q 'class=\"f' '$FIX/dom.html' && ! grep -q 'data-name=\"handle_request\"' '$FIX/dom.html'"
check "a C++ name keeps its spaces and brackets" \
	has_frame "std::vector&lt;int, std::allocator&lt;int&gt; &gt;::_M_realloc_insert" 65536 16
check "hover title gives bytes and blocks" title_has leak_buffers "1048576 bytes 256 blocks"
check "the summary line is filled in" grep -q "outstanding 9.57 MiB in 403 blocks" "$FIX/dom.html"
check "the screenshot is a PNG" bash -c "head -c 8 '$FIX/shot.png' | od -An -tx1 | grep -q '89 50 4e 47'"
check "map_arena is painted at its width" painted map_arena
check "leak_buffers is painted at its width" painted leak_buffers
check "search 'leak_' highlights both leak_buffers frames" fact "hits=2"
check "search shows the matched total: 1.50 MiB, 15.68%" fact "match=matched 1.50 MiB (15.68%)"
check "hovering map_arena shows the tooltip" fact "tip_shown=block"
check "the tooltip gives bytes, share and blocks" \
	fact "tip=map_arena | outstanding: 8.00 MiB (8388608 bytes, 83.63%) | blocks: 2 | other value: 16.0 MiB allocated"
check "toggling to allocated bytes redraws the root at $FIX_TOTAL_ALLOCATED" \
	fact "allocated_root=$FIX_TOTAL_ALLOCATED"
check "and draws the fully freed stack" fact "allocated_handle_request=409600"
check "the search highlight survives the redraw" fact "hits_after_toggle=2"
check "clicking run_server zooms it to the full width" fact "zoom_run_server_width=1184"
check "its ancestors stay above it, full width" fact "zoom_root_width=1184"
check "only run_server's ancestors and callees remain" \
	fact "zoom_frames=main,__libc_start_call_main,leaky (4242),all,run_server,handle_request,leak_buffers"
check "its callees share its width by allocated bytes (2097152 of 2506752)" fact "zoom_leak_width=991"
check "reset zoom brings every frame wider than half a pixel back (17)" fact "reset_frames=17"
done_testing
