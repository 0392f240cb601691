#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Sampling mode's estimator at a 64 KiB mean on ~200k blocks (sample_sites volume): each site's
# estimated outstanding bytes within 10% of what it holds.
#
# The math. A site of n blocks of s bytes has each block sampled with p = 1 - exp(-s/T) and
# counted as s/p bytes, so the estimate is (s/p) * Binomial(n, p): unbiased, with relative
# standard deviation sqrt((1 - p) / (n p)). At T = 65536:
#   vol_tiny   100000 x 512 B   p = 0.0078  n p =  778  sd 3.6%
#   vol_small   40000 x 2 KiB   p = 0.0308  n p = 1230  sd 2.8%
#   vol_medium   4000 x 24 KiB  p = 0.313   n p = 1251  sd 2.3%
#   vol_large     300 x 256 KiB p = 0.982   n p =  295  sd 0.8%
# 10% is 2.8 to 12 standard deviations; the seed makes the draws repeatable (errors seen: < 4%).
source "$(dirname "$0")/../lib/tap.sh"
need_root

MEMTRACE_SAMPLE_SEED=42 "$MEMTRACE" --no-live --sample-bytes 64K --json "$TMP/s.json" \
	--pprof "$TMP/s.pb.gz" -o "$TMP/s.txt" -- "$WL/sample_sites" volume >/dev/null 2>&1
is "$?" 0 "sampled run of ~200k allocations"
python3 tests/lib/site.py "$TMP/s.json" >"$TMP/sites"
within() {	# function known_bytes
	local got
	got=$(awk -v f="$1" '$1 == f {print $2}' "$TMP/sites")
	python3 -c "import sys; g, k = int(sys.argv[1] or 0), int(sys.argv[2]); sys.exit(abs(g - k) > 0.10 * k)" "$got" "$2"
	ok $? "$1: estimated $got B, known $2 B (within 10%)"
}
within vol_tiny $((100000 * 512))
within vol_small $((40000 * 2048))
within vol_medium $((4000 * 24576))
within vol_large $((300 * 262144))
nonempty "$TMP/sites" && ! grep -q '^vol_churn ' "$TMP/sites"
ok $? "vol_churn freed all its sampled blocks: nothing outstanding"
is "$(jpy "d['processes'][0]['sample_bytes']" "$TMP/s.json")" 65536 "the mean is reported"
# Once the kernel has turned the hooks' nops into calls, stacks must still start at the caller:
# every stack's first frame is a function of the workload (a wrong start showed as an unnamed
# frame in the kernel's uprobe trampoline page).
is "$(jpy "sorted({s['frames'][0]['function'] for s in d['processes'][0]['stacks']})" "$TMP/s.json")" \
	"['main', 'vol_churn', 'vol_large', 'vol_medium', 'vol_small', 'vol_tiny']" "every first frame is the direct caller of malloc"
is "$(jpy "sum(1 for s in d['processes'][0]['stacks'] for f in s['frames'] if not f.get('module'))" "$TMP/s.json")" 0 "no frame outside a mapped object (the uprobe trampoline)"
events=$(jpy "sum(s['allocations'] for s in d['processes'][0]['stacks'])" "$TMP/s.json")
python3 -c "import sys; sys.exit(abs(int(sys.argv[1]) - 194301) > 19430)" "$events"
ok $? "estimated allocations ($events) within 10% of the 194301 made (144301 held + 50000 churn)"
# pprof carries the estimates too: its inuse_space total equals the report's outstanding bytes.
# (A minimal protobuf walk: Profile.sample = field 2, Sample.value = field 2, packed varints.)
total=$(python3 - "$TMP/s.pb.gz" <<'PY'
import gzip, sys
b = gzip.open(sys.argv[1]).read()
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80: return v, i
def fields(b):
    i = 0
    while i < len(b):
        k, i = varint(b, i)
        t = k & 7
        if t == 0: v, i = varint(b, i)
        elif t == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
        elif t == 1: v = b[i:i + 8]; i += 8
        else: v = b[i:i + 4]; i += 4
        yield k >> 3, t, v
def packed(v):
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i); out.append(x)
    return out
tot = 0
for f, t, v in fields(b):
    if f == 2:	# Sample
        vals = []
        for g, tt, vv in fields(v):
            if g == 2:
                vals += packed(vv) if tt == 2 else [vv]
        tot += vals[-1] if vals else 0
print(tot)
PY
)
is "$total" "$(jpy "d['summary']['outstanding_bytes']" "$TMP/s.json")" "pprof's last sample value (inuse_space) sums to the estimated outstanding bytes"
done_testing
