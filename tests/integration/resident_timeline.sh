#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# --timeline on tests/workloads/phases.c: the HTML page rendered by headless chromium has the
# RSS and heap lines, the peak marker at the exact peak and the peak's stacks below; the screenshot
# shows the marker painted; the .svg variant is the chart alone, well-formed.
source "$(dirname "$0")/../lib/exports.sh"
need_root
need node nodejs
need chromium chromium

"$MEMTRACE" --timeline "$TMP/t.html" --json "$TMP/r.json" -o /dev/null -- "$WL/phases" 200 >/dev/null
is "$?" 0 "memtrace writes the timeline"
check "the page fetches nothing" bash -c "[ -s '$TMP/t.html' ] && ! grep -Eq '(src|href)=\"?(https?:)?//' '$TMP/t.html'"
headless --window-size=1000,700 --dump-dom "file://$TMP/t.html" >"$TMP/dom.html"
headless --window-size=1000,700 --screenshot="$TMP/shot.png" "file://$TMP/t.html" >/dev/null
[ -n "${KEEP_SCREENSHOT:-}" ] && cp "$TMP/shot.png" "$KEEP_SCREENSHOT"

pid=$(jpy "d['processes'][0]['pid']" "$TMP/r.json")
check "chromium renders the chart" grep -q '<svg[^>]*id="chart"' "$TMP/dom.html"
check "an RSS line for pid $pid" grep -q "<polyline class=\"rss\" data-pid=\"$pid\"" "$TMP/dom.html"
check "a heap line for pid $pid" grep -q "<polyline class=\"heap\" data-pid=\"$pid\"" "$TMP/dom.html"
check "the heap peak marker carries the exact peak, 41943040 bytes" \
	grep -q "<circle class=\"peak-heap\" data-pid=\"$pid\" data-bytes=\"41943040\"" "$TMP/dom.html"
check "its label says 40.0 MiB" grep -q 'peak heap 40.0 MiB at' "$TMP/dom.html"
check "the RSS peak marker is drawn" grep -q '<rect class="peak-rss"' "$TMP/dom.html"
check "below the chart: grow_big held 32 MiB at the peak" \
	grep -q '<tr data-bytes="33554432"><td class="n">32.0 MiB</td><td class="n">32</td><td>heap</td><td class="site">grow_big' "$TMP/dom.html"
check "and grow_extra 8 MiB" grep -q '<tr data-bytes="8388608">.*grow_extra' "$TMP/dom.html"
check "grow_again, which came after the peak, is not listed" \
	bash -c "grep -q 'site\">grow_big' '$TMP/dom.html' && ! grep -q 'site\">grow_again' '$TMP/dom.html'"

# The marker's fill (#ffd700) is painted: a circle of radius 7 inside a 3 px stroke has about
# 50 such pixels; nothing else on the page uses that colour.
count=$(node tests/lib/png_count.mjs "$TMP/shot.png" 255,215,0 | awk 'NR == 2 { print $2 }')
[ "${count:-0}" -ge 30 ] && [ "$count" -le 200 ]; ok $? "the peak marker is painted in the screenshot ($count pixels)"

# The marker sits where the axes put 40 MiB at the peak's time: its centre in the DOM matches.
cy=$(grep -o '<circle class="peak-heap"[^>]*' "$TMP/dom.html" | sed -n 's/.* cy="\([0-9.]*\)".*/\1/p')
ylab=$(grep -o '<line class="grid"[^>]*/><text[^>]*>40.0 MiB' "$TMP/t.html" | sed -n 's/.* y1="\([0-9.]*\)".*/\1/p')
[ -n "$ylab" ] || ylab=$(python3 - "$TMP/t.html" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
for m in re.finditer(r'<line class="grid" x1="[\d.]+" y1="([\d.]+)"[^>]*/>\s*<text[^>]*>([^<]*)</text>', s):
    if m.group(2) == "40.0 MiB":
        print(m.group(1))
PY
)
check "the marker is on the 40 MiB grid line (cy $cy, line $ylab)" \
	awk -v a="$cy" -v b="$ylab" 'BEGIN { d = a - b; exit !(b != "" && d < 0.6 && d > -0.6) }'

"$MEMTRACE" --timeline "$TMP/t.svg" -o /dev/null -- "$WL/phases" 0 >/dev/null
check "--timeline FILE.svg writes a well-formed SVG with the peak marker" \
	python3 -c "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); \
ns = '{http://www.w3.org/2000/svg}'; assert r.tag == ns + 'svg'; \
assert [c for c in r.iter(ns + 'circle') if c.get('class') == 'peak-heap' and c.get('data-bytes') == '41943040']" "$TMP/t.svg"
done_testing
