// SPDX-License-Identifier: BSD-2-Clause
/*
 * The report's memory sections, text and JSON: resident growth from page faults (by the stack
 * that touched memory, by mapping kind, by file), the heap and RSS peaks with the stacks that
 * held memory at the heap peak, what it held when the OOM killer chose it, and the
 * memory-over-time samples.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memtrace.h"
#include "present/label.h"
#include "present/report.h"
#include "lib/util.h"

static double rel_s(const struct mt_snapshot *s, uint64_t ts)
{
	return ts > s->start_ns ? (ts - s->start_ns) / 1e9 : 0;
}

static int by_peak(const void *x, const void *y)
{
	const struct mt_stack *a = *(const struct mt_stack *const *)x;
	const struct mt_stack *b = *(const struct mt_stack *const *)y;

	if (a->peak_bytes != b->peak_bytes)
		return a->peak_bytes < b->peak_bytes ? 1 : -1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* The stacks holding memory at the heap peak, most first; n of them. Free the array. */
const struct mt_stack **report__stacks_at_peak(const struct mt_proc *p, size_t *n)
{
	const struct mt_stack **v = xcalloc(p->nstacks + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i].peak_bytes)
			v[(*n)++] = &p->stacks[i];
	qsort(v, *n, sizeof(*v), by_peak);
	return v;
}

static const char *site_label(const struct mt_frame *frames, uint32_t n, int site, char *buf,
			      size_t len)
{
	if (!n)
		return "[stack not captured]";
	return label__frame(&frames[site], LABEL_WHERE, buf, len);
}

/* ---- text ---- */

static void faults_line(FILE *f, const char *title, const struct mt_faults *m)
{
	char b[16];

	fprintf(f, "%s%s in %" PRIu64 " faults (%" PRIu64 " minor, %" PRIu64 " major)", title,
		mt_fmt_bytes(m->bytes, b), m->minor + m->major, m->minor, m->major);
	if (m->unsized)
		fprintf(f, ", %" PRIu64 " counted at one page", m->unsized);
}

/* ", rss 63.8 MiB (anon 63.1 MiB), memory limit 64.0 MiB": what the kernel counted at an OOM kill. */
static void oom_memory(FILE *f, const struct mt_oom *o)
{
	char a[16], b[16];

	if (!o->rss_bytes)
		fprintf(f, "; rss unknown");
	else if (o->rss_sampled)	/* the kernel gave no task to read it from */
		fprintf(f, "; rss %s (sampled before it)", mt_fmt_bytes(o->rss_bytes, a));
	else
		fprintf(f, "; rss %s (anon %s)", mt_fmt_bytes(o->rss_bytes, a), mt_fmt_bytes(o->anon_bytes, b));
	if (o->limit_bytes)
		fprintf(f, "; memory limit %s", mt_fmt_bytes(o->limit_bytes, a));
	else
		fprintf(f, "; no memory limit");
}

/* The OOM killer chose it: what it held then, frozen before it was reaped. */
static void oom_text(FILE *f, const struct mt_snapshot *s, const struct mt_oom *o, int top_n)
{
	const struct mt_summary *h = &o->kind[MT_KIND_HEAP], *m = &o->kind[MT_KIND_MMAP];
	char a[16], b[16], label[512];

	fprintf(f, "at OOM kill: %.3fs, chosen by the kernel's OOM killer", rel_s(s, o->ts_ns));
	oom_memory(f, o);
	fprintf(f, "\n  held then: heap %s in %" PRIu64 " blocks, mmap %s in %" PRIu64 " regions\n",
		mt_fmt_bytes(h->outstanding_bytes, a), h->outstanding_allocations,
		mt_fmt_bytes(m->outstanding_bytes, b), m->outstanding_allocations);
	for (size_t i = 0; i < o->nstacks && (int)i < top_n; i++) {
		const struct mt_stack *st = &o->stacks[i];

		fprintf(f, "  at OOM kill: %s %s in %" PRIu64 " blocks by %s\n",
			mt_fmt_bytes(st->outstanding_bytes, a), label__kind(st->kind),
			st->outstanding_allocations,
			site_label(st->frames, st->nframes, st->site, label, sizeof(label)));
	}
}

void report__text_memory(FILE *f, const struct mt_snapshot *s, const struct mt_proc *p, int top_n)
{
	const struct mt_resident *r = &p->resident;
	char a[16], b[16], label[512];
	size_t n;
	const struct mt_stack **at_peak;

	fprintf(f, "peak: heap %s at %.3fs", mt_fmt_bytes(p->peak.heap_bytes, a),
		rel_s(s, p->peak.heap_ts_ns));
	if (p->peak.rss_bytes)
		fprintf(f, "; rss %s at %.3fs (high-water mark %s)", mt_fmt_bytes(p->peak.rss_bytes, b),
			rel_s(s, p->peak.rss_ts_ns), mt_fmt_bytes(p->peak.rss_hwm_bytes, label));
	fputc('\n', f);
	at_peak = report__stacks_at_peak(p, &n);
	for (size_t i = 0; i < n && (int)i < top_n && i < 5; i++)
		fprintf(f, "  at peak: %s %s by %s\n", mt_fmt_bytes(at_peak[i]->peak_bytes, a),
			label__kind(at_peak[i]->kind),
			site_label(at_peak[i]->frames, at_peak[i]->nframes, at_peak[i]->site, label,
				   sizeof(label)));
	free(at_peak);
	if (p->oom)
		oom_text(f, s, p->oom, top_n);
	if (!r->total.minor && !r->total.major)
		return;
	faults_line(f, "resident: +", &r->total);
	fputc('\n', f);
	for (int m = 0; m < MT_MAP__COUNT; m++) {
		if (!r->by_map[m].minor && !r->by_map[m].major)
			continue;
		fprintf(f, "  %-7s ", label__map(m));
		faults_line(f, "+", &r->by_map[m]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < r->nfiles && (int)i < top_n && i < 5; i++)
		fprintf(f, "  file +%s  %s\n", mt_fmt_bytes(r->files[i].faults.bytes, a),
			r->files[i].path);
	for (size_t i = 0; i < r->nstacks && (int)i < top_n; i++) {
		const struct mt_fault_stack *st = &r->stacks[i];

		fprintf(f, "  touched +%s (%s) by %s\n", mt_fmt_bytes(st->faults.bytes, a),
			label__map(st->map), site_label(st->frames, st->nframes, st->site, label,
							 sizeof(label)));
	}
}

/* ---- JSON ---- */

static void faults_json(struct json *j, const char *key, const struct mt_faults *m)
{
	json__begin_object(j, key);
	json__u64(j, "minor_faults", m->minor);
	json__u64(j, "major_faults", m->major);
	json__u64(j, "bytes", m->bytes);
	json__u64(j, "unsized_faults", m->unsized);
	json__end_object(j);
}

static void frames_json(struct json *j, const struct mt_frame *frames, uint32_t n, int site)
{
	json__int(j, "site", site);
	json__begin_array(j, "frames");
	for (uint32_t i = 0; i < n; i++)
		report__json_frame(j, &frames[i]);
	json__end_array(j);
}

static void resident_json(struct json *j, const struct mt_resident *r)
{
	json__begin_object(j, "resident");
	json__u64(j, "minor_faults", r->total.minor);
	json__u64(j, "major_faults", r->total.major);
	json__u64(j, "bytes", r->total.bytes);
	json__u64(j, "unsized_faults", r->total.unsized);
	json__begin_object(j, "by_mapping");
	for (int m = 0; m < MT_MAP__COUNT; m++)
		faults_json(j, label__map(m), &r->by_map[m]);
	json__end_object(j);
	json__begin_array(j, "files");
	for (size_t i = 0; i < r->nfiles; i++) {
		json__begin_object(j, NULL);
		json__str(j, "path", r->files[i].path);
		json__u64(j, "minor_faults", r->files[i].faults.minor);
		json__u64(j, "major_faults", r->files[i].faults.major);
		json__u64(j, "bytes", r->files[i].faults.bytes);
		json__end_object(j);
	}
	json__end_array(j);
	json__begin_array(j, "stacks");
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct mt_fault_stack *st = &r->stacks[i];

		json__begin_object(j, NULL);
		json__u64(j, "id", st->id);
		json__str(j, "mapping", label__map(st->map));
		json__u64(j, "minor_faults", st->faults.minor);
		json__u64(j, "major_faults", st->faults.major);
		json__u64(j, "bytes", st->faults.bytes);
		json__u64(j, "unsized_faults", st->faults.unsized);
		frames_json(j, st->frames, st->nframes, st->site);
		json__end_object(j);
	}
	json__end_array(j);
	json__end_object(j);
}

static void peak_json(struct json *j, const struct mt_snapshot *s, const struct mt_proc *p)
{
	size_t n;
	const struct mt_stack **at_peak = report__stacks_at_peak(p, &n);

	json__begin_object(j, "peak");
	json__u64(j, "heap_bytes", p->peak.heap_bytes);
	json__u64(j, "heap_ts_ns", p->peak.heap_ts_ns);
	json__double(j, "heap_t_s", rel_s(s, p->peak.heap_ts_ns));
	json__u64(j, "rss_bytes", p->peak.rss_bytes);
	json__u64(j, "rss_ts_ns", p->peak.rss_ts_ns);
	json__double(j, "rss_t_s", rel_s(s, p->peak.rss_ts_ns));
	json__u64(j, "rss_hwm_bytes", p->peak.rss_hwm_bytes);
	json__begin_array(j, "stacks_at_peak");
	for (size_t i = 0; i < n; i++) {
		json__begin_object(j, NULL);
		json__u64(j, "id", at_peak[i]->id);
		json__str(j, "kind", label__kind(at_peak[i]->kind));
		json__u64(j, "bytes", at_peak[i]->peak_bytes);
		json__u64(j, "allocations", at_peak[i]->peak_allocations);
		frames_json(j, at_peak[i]->frames, at_peak[i]->nframes, at_peak[i]->site);
		json__end_object(j);
	}
	json__end_array(j);
	json__end_object(j);
	free(at_peak);
}

static void timeline_json(struct json *j, const struct mt_snapshot *s, const struct mt_proc *p)
{
	json__begin_array(j, "timeline");
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct mt_sample *x = &p->samples[i];

		json__begin_object(j, NULL);
		json__u64(j, "ts_ns", x->ts_ns);
		json__double(j, "t_s", rel_s(s, x->ts_ns));
		json__u64(j, "rss_bytes", x->rss_bytes);
		json__u64(j, "heap_bytes", x->heap_bytes);
		json__u64(j, "mmap_bytes", x->mmap_bytes);
		json__end_object(j);
	}
	json__end_array(j);
}

/* Present only when the OOM killer chose the process. */
static void oom_json(struct json *j, const struct mt_snapshot *s, const struct mt_oom *o)
{
	json__begin_object(j, "oom_kill");
	json__u64(j, "ts_ns", o->ts_ns);
	json__double(j, "t_s", rel_s(s, o->ts_ns));
	json__u64(j, "rss_bytes", o->rss_bytes);
	json__u64(j, "rss_anon_bytes", o->anon_bytes);
	json__bool(j, "rss_sampled", o->rss_sampled);
	json__u64(j, "memory_limit_bytes", o->limit_bytes);
	report__json_summary(j, "summary", &o->kind[MT_KIND_HEAP]);
	report__json_summary(j, "mmap_summary", &o->kind[MT_KIND_MMAP]);
	json__begin_array(j, "stacks");
	for (size_t i = 0; i < o->nstacks; i++) {
		const struct mt_stack *st = &o->stacks[i];

		json__begin_object(j, NULL);
		report__json_stack_figures(j, st);
		frames_json(j, st->frames, st->nframes, st->site);
		json__end_object(j);
	}
	json__end_array(j);
	json__end_object(j);
}

void report__json_memory(struct json *j, const struct mt_snapshot *s, const struct mt_proc *p)
{
	resident_json(j, &p->resident);
	peak_json(j, s, p);
	if (p->oom)
		oom_json(j, s, p->oom);
	timeline_json(j, s, p);
}

void report__json_faults(struct json *j, const struct mt_faults *total)
{
	faults_json(j, "resident", total);
}
