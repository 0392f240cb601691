// SPDX-License-Identifier: BSD-2-Clause
/* The pure parts of resident memory: the by-stack picture at the heap peak, fault tallies by
 * stack and mapping, and the bounded memory-over-time series. */
#include <stdlib.h>
#include <string.h>

#include "model/aggregate.h"
#include "model/resident.h"
#include "model/series.h"
#include "tap.h"

static struct mt_event ev(uint32_t op, uint64_t addr, uint64_t size, uint64_t frame, uint64_t ts)
{
	struct mt_event e = { .op = op, .pid = 100, .tid = 100, .addr = addr, .size = size,
			      .nframes = 1, .ts_ns = ts };

	e.frames[0] = frame;
	return e;
}

static void apply(struct agg *a, struct mt_event e) { agg__apply(a, &e); }

/* Outstanding bytes of the stack whose only frame is frame, at the peak. */
static uint64_t at_peak(const struct agg *a, uint64_t frame)
{
	uint64_t bytes = 0, blocks;

	for (uint32_t id = 0; id < agg__nstacks(a); id++)
		if (agg__stack(a, id)->frames[0] == frame)
			agg__stack_at_peak(a, id, &bytes, &blocks);
	return bytes;
}

static void test_peak(void)
{
	struct procs *procs = procs__new();
	struct agg *a = agg__new(procs);
	const struct mt_summary *h;

	apply(a, ev(MT_OP_MALLOC, 0x1000, 300, 0xa, 1));
	apply(a, ev(MT_OP_MALLOC, 0x2000, 200, 0xb, 2));	/* peak 500: a 300, b 200 */
	apply(a, ev(MT_OP_FREE, 0x1000, 0, 0, 3));
	apply(a, ev(MT_OP_MALLOC, 0x3000, 250, 0xc, 4));	/* 450: below the peak */
	apply(a, ev(MT_OP_FREE, 0x2000, 0, 0, 5));
	h = &agg__proc(a, 100)->sum[MT_KIND_HEAP];
	is_u64(h->peak_outstanding_bytes, 500, "peak 500");
	is_u64(h->peak_ts_ns, 2, "reached by the second malloc");
	is_u64(at_peak(a, 0xa), 300, "a held 300 at the peak though freed since");
	is_u64(at_peak(a, 0xb), 200, "b held 200 at the peak though freed since");
	is_u64(at_peak(a, 0xc), 0, "c, born after the peak, held nothing then");
	apply(a, ev(MT_OP_MALLOC, 0x4000, 400, 0xc, 6));	/* 650: a new peak, c alone */
	is_u64(at_peak(a, 0xc), 650, "a new peak moves the picture: c holds 650");
	is_u64(at_peak(a, 0xa), 0, "and a nothing");
	apply(a, ev(MT_OP_FREE, 0x4000, 0, 0, 7));
	is_u64(at_peak(a, 0xc), 650, "c's later free does not change the picture at the peak");
	procs__free(procs);
	agg__free(a);
}

static struct mt_event fault(uint32_t op, uint64_t frame, uint32_t map, uint64_t bytes, bool sized)
{
	struct mt_event e = ev(op, 0x7000, bytes, frame, 1);

	e.fault.map = map | (sized ? MT_FAULT_SIZED : 0);
	return e;
}

static void test_faults(void)
{
	struct procs *procs = procs__new();
	struct resident *r = resident__new(procs);
	struct mt_faults t;
	struct mt_event e;
	bool fresh;

	e = fault(MT_OP_FAULT, 0xa, MT_MAP_ANON, 4096, true);
	ok(resident__apply(r, &e), "a fault with a new stack says so");
	ok(!resident__apply(r, &e), "the same stack again does not");
	e = fault(MT_OP_FAULT, 0xa, MT_MAP_ANON, 2 << 20, true);
	resident__apply(r, &e);
	e = fault(MT_OP_FAULT_MAJOR, 0xa, MT_MAP_HEAP, 4096, true);
	fresh = resident__apply(r, &e);
	ok(fresh, "the same frames on another mapping kind are another stack");
	e = fault(MT_OP_FAULT, 0xb, MT_MAP_ANON, 0, false);
	resident__apply(r, &e);
	e = fault(MT_OP_FAULT, 0xb, 77, 0, true);	/* a kind this build does not know */
	resident__apply(r, &e);
	e = ev(MT_OP_MALLOC, 0x9000, 100, 0xc, 1);
	ok(!resident__apply(r, &e), "allocations are not faults");
	resident__total(r, &t);
	is_u64(t.minor, 5, "minor faults");
	is_u64(t.major, 1, "major faults");
	is_u64(t.bytes, 2 * 4096 + (2 << 20) + 4096 + 4096 + 0, "bytes: a huge page at 2 MiB, unsized at a page");
	is_u64(t.unsized, 1, "one unsized fault");
	procs__free(procs);
	resident__free(r);
}

static void test_series(void)
{
	struct procs *procs = procs__new();
	struct series *s = series__new(procs);
	struct mt_proc p = { 0 };
	size_t n = MT_SERIES_MAX * 2 + 1;

	for (size_t i = 0; i < n; i++) {
		struct mt_sample x = { .ts_ns = i + 1, .rss_bytes = i == 777 ? 1 << 30 : 100,
				       .heap_bytes = i };

		series__add(s, 7, &x, 5000);
	}
	series__fill(s, 7, &p);
	ok(p.nsamples <= MT_SERIES_MAX, "bounded: %zu points", p.nsamples);
	is_u64(p.nsamples, MT_SERIES_MAX / 2 + 1, "2049 samples at stride 4: 513 points");
	is_u64(p.samples[0].ts_ns, 1, "the first point keeps the first time");
	is_u64(p.samples[1].ts_ns, 5, "each point starts at its first sample");
	is_u64(p.samples[0].heap_bytes, 3, "and keeps the largest value of its samples");
	is_u64(p.samples[p.nsamples - 1].heap_bytes, n - 1, "the last sample is in");
	is_u64(p.peak.rss_bytes, 1 << 30, "the RSS peak survives merging");
	is_u64(p.peak.rss_ts_ns, 778, "with its own time");
	is_u64(p.peak.rss_hwm_bytes, 5000, "and the kernel's high-water mark");
	free((void *)p.samples);
	series__fill(s, 8, &p);
	is_u64(p.nsamples, 0, "an unknown process has no samples");
	procs__free(procs);
	series__free(s);
}

int main(void)
{
	test_peak();
	test_faults();
	test_series();
	return done_testing();
}
