// SPDX-License-Identifier: BSD-2-Clause
/*
 * Memory over time as an SVG chart drawn here, so the page needs no script and the SVG file alone
 * is the same picture: per process, RSS (solid), outstanding heap (dashed) and anonymous mmap
 * (dotted) against seconds since the trace began; the exact heap peak and the largest RSS sample
 * marked. The HTML page adds, below the chart, the stacks that held the most at the heap peak.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "present/label.h"
#include "present/report.h"
#include "present/timeline.h"
#include "lib/util.h"

/* user/timeline.html as a C string, made by the Makefile. */
static const char page[] =
#include "timeline_html.h"
	;

#define W 960.0
#define H 380.0
#define LEFT 70.0
#define RIGHT 20.0
#define TOP 20.0
#define BOTTOM 60.0
#define MAX_PROCS 8
#define TOP_STACKS 10

static const char *const colour[MAX_PROCS] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
};

struct scale {
	double t0, t1;		/* seconds since start */
	double ymax;		/* bytes */
};

static double sx(const struct scale *c, double t)
{
	return LEFT + (t - c->t0) / (c->t1 - c->t0) * (W - LEFT - RIGHT);
}

static double sy(const struct scale *c, double bytes)
{
	return H - BOTTOM - bytes / c->ymax * (H - TOP - BOTTOM);
}

static double dmax(double a, double b) { return a > b ? a : b; }

static double rel(const struct mt_snapshot *s, uint64_t ts)
{
	return ts > s->start_ns ? (ts - s->start_ns) / 1e9 : 0;
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

/* 1, 2 or 5 times a power of ten (of 1024 for bytes), so that about n steps cover max. */
static double nice_step(double max, int n, double base)
{
	double raw = max / n, p = 1;

	while (p * base <= raw)
		p *= base;
	while (p > raw && p > 1)
		p /= base;
	for (double m = 1; m <= base; m *= 2) {
		if (p * m >= raw)
			return p * m;
		if (m == 2 && p * 5 >= raw)
			return p * 5;
	}
	return p * base;
}

static void scale_of(const struct mt_snapshot *s, struct scale *c)
{
	c->t0 = 0;
	c->t1 = rel(s, s->now_ns);
	c->ymax = 0;
	for (size_t i = 0; i < s->nprocs && i < MAX_PROCS; i++) {
		const struct mt_proc *p = &s->procs[i];

		for (size_t k = 0; k < p->nsamples; k++) {
			const struct mt_sample *x = &p->samples[k];

			c->ymax = dmax(c->ymax, dmax(x->rss_bytes, dmax(x->heap_bytes, x->mmap_bytes)));
		}
		c->ymax = dmax(c->ymax, p->peak.heap_bytes);
	}
	if (c->t1 <= c->t0)
		c->t1 = c->t0 + 1;
	c->ymax = c->ymax > 0 ? c->ymax * 1.08 : 1024 * 1024;
}

static void axes(FILE *f, const struct scale *c)
{
	double ystep = nice_step(c->ymax, 6, 1024), tstep = nice_step(c->t1 - c->t0, 10, 10);
	char b[16];

	if (c->t1 - c->t0 < 10)	/* short runs: decimal steps of a second */
		tstep = c->t1 - c->t0 <= 1 ? 0.1 : c->t1 - c->t0 <= 2.5 ? 0.25 : c->t1 - c->t0 <= 5 ? 0.5 : 1;
	for (double y = 0; y <= c->ymax; y += ystep) {
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			LEFT, sy(c, y), W - RIGHT, sy(c, y));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", LEFT - 6,
			sy(c, y) + 4, mt_fmt_bytes((uint64_t)y, b));
	}
	for (double t = c->t0; t <= c->t1 + 1e-9; t += tstep)
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", sx(c, t),
			H - BOTTOM + 16, (long)(t * 1000 + 0.5) / 1000.0);
	fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT,
		H - BOTTOM, W - RIGHT, H - BOTTOM);
	fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT, TOP,
		LEFT, H - BOTTOM);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">seconds since the trace began</text>\n",
		(LEFT + W - RIGHT) / 2, H - BOTTOM + 34);
}

enum series_kind { RSS, HEAP, MMAP };

static uint64_t value(const struct mt_sample *x, enum series_kind k)
{
	return k == RSS ? x->rss_bytes : k == HEAP ? x->heap_bytes : x->mmap_bytes;
}

/* One line; the heap line also passes through the exact peak, which sampling may have missed. */
static void line(FILE *f, const struct mt_snapshot *s, const struct scale *c, const struct mt_proc *p,
		 enum series_kind k, const char *col)
{
	static const char *const cls[] = { "rss", "heap", "mmap" };
	static const char *const dash[] = { "", " stroke-dasharray=\"7 4\"", " stroke-dasharray=\"2 3\"" };
	bool peak_drawn = k != HEAP || !p->peak.heap_ts_ns;

	fprintf(f, "<polyline class=\"%s\" data-pid=\"%" PRIu32 "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
		cls[k], p->pid, col, dash[k]);
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct mt_sample *x = &p->samples[i];

		if (!peak_drawn && x->ts_ns >= p->peak.heap_ts_ns) {
			fprintf(f, "%.1f,%.1f ", sx(c, rel(s, p->peak.heap_ts_ns)), sy(c, p->peak.heap_bytes));
			peak_drawn = true;
		}
		fprintf(f, "%.1f,%.1f ", sx(c, rel(s, x->ts_ns)), sy(c, value(x, k)));
	}
	if (!peak_drawn)
		fprintf(f, "%.1f,%.1f", sx(c, rel(s, p->peak.heap_ts_ns)), sy(c, p->peak.heap_bytes));
	fputs("\"/>\n", f);
}

static void markers(FILE *f, const struct mt_snapshot *s, const struct scale *c,
		    const struct mt_proc *p, const char *col)
{
	char b[16];
	double x, y;

	if (p->peak.rss_ts_ns) {
		x = sx(c, rel(s, p->peak.rss_ts_ns));
		y = sy(c, p->peak.rss_bytes);
		fprintf(f, "<rect class=\"peak-rss\" data-pid=\"%" PRIu32 "\" data-bytes=\"%" PRIu64 "\" x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\" stroke=\"#000\"/>\n",
			p->pid, p->peak.rss_bytes, x - 5, y - 5, col);
	}
	if (!p->peak.heap_ts_ns)
		return;
	x = sx(c, rel(s, p->peak.heap_ts_ns));
	y = sy(c, p->peak.heap_bytes);
	fprintf(f, "<line class=\"peak-rule\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"1 3\"/>\n",
		x, y, x, H - BOTTOM, col);
	fprintf(f, "<circle class=\"peak-heap\" data-pid=\"%" PRIu32 "\" data-bytes=\"%" PRIu64 "\" data-t=\"%.6f\" cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"#ffd700\" stroke=\"%s\" stroke-width=\"3\"/>\n",
		p->pid, p->peak.heap_bytes, rel(s, p->peak.heap_ts_ns), x, y, col);
	fprintf(f, "<text class=\"peak-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">peak heap %s at %.2fs</text>\n",
		x + (x > W / 2 ? -12 : 12), y + 4, x > W / 2 ? "end" : "start",
		mt_fmt_bytes(p->peak.heap_bytes, b), rel(s, p->peak.heap_ts_ns));
}

static void legend(FILE *f, const struct mt_snapshot *s)
{
	for (size_t i = 0; i < s->nprocs && i < MAX_PROCS; i++) {
		double x = LEFT + 240.0 * i, y = H - 10;

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
			x, y - 4, x + 24, y - 4, colour[i]);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">pid %" PRIu32 " (", x + 30, y, s->procs[i].pid);
		xml_text(f, s->procs[i].comm);
		fputs(")</text>\n", f);
	}
}

static void chart(FILE *f, const struct mt_snapshot *s)
{
	struct scale c;

	scale_of(s, &c);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
		W, H, W, H);
	fputs("<style>text { font: 11px sans-serif; fill: #333; } .axis { stroke: #888; } .grid { stroke: #e4e4e4; }</style>\n", f);
	fprintf(f, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", W, H);
	axes(f, &c);
	for (size_t i = 0; i < s->nprocs && i < MAX_PROCS; i++) {
		const struct mt_proc *p = &s->procs[i];

		if (p->kind[MT_KIND_MMAP].allocations)
			line(f, s, &c, p, MMAP, colour[i]);
		line(f, s, &c, p, HEAP, colour[i]);
		line(f, s, &c, p, RSS, colour[i]);
	}
	for (size_t i = 0; i < s->nprocs && i < MAX_PROCS; i++)
		markers(f, s, &c, &s->procs[i], colour[i]);
	legend(f, s);
	fputs("</svg>\n", f);
}

static void chain(FILE *f, const struct mt_stack *st)
{
	char label[256];

	for (uint32_t i = st->site + 1; i < st->nframes && i < (uint32_t)st->site + 4; i++) {
		fputs(" &larr; ", f);
		xml_text(f, label__frame(&st->frames[i], LABEL_WHERE, label, sizeof(label)));
	}
}

static void stacks(FILE *f, const struct mt_snapshot *s)
{
	char b[16], label[256];

	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mt_proc *p = &s->procs[i];
		size_t n;
		const struct mt_stack **v = report__stacks_at_peak(p, &n);

		fprintf(f, "<h2>pid %" PRIu32 " (", p->pid);
		xml_text(f, p->comm);
		fprintf(f, "): holding memory at the heap peak, %s at %.3fs",
			mt_fmt_bytes(p->peak.heap_bytes, b), rel(s, p->peak.heap_ts_ns));
		if (p->peak.rss_bytes)
			fprintf(f, "; largest RSS sample %s at %.3fs", mt_fmt_bytes(p->peak.rss_bytes, label),
				rel(s, p->peak.rss_ts_ns));
		fputs("</h2>\n<table class=\"at-peak\">\n<tr><th>bytes</th><th>blocks</th><th>kind</th><th>call site</th><th>called from</th></tr>\n", f);
		for (size_t k = 0; k < n && k < TOP_STACKS; k++) {
			const struct mt_stack *st = v[k];

			fprintf(f, "<tr data-bytes=\"%" PRIu64 "\"><td class=\"n\">%s</td><td class=\"n\">%" PRIu64 "</td><td>%s</td><td class=\"site\">",
				st->peak_bytes, mt_fmt_bytes(st->peak_bytes, b), st->peak_allocations,
				label__kind(st->kind));
			xml_text(f, st->nframes ? label__frame(&st->frames[st->site], LABEL_WHERE, label, sizeof(label))
						: "[stack not captured]");
			fputs("</td><td class=\"chain\">", f);
			chain(f, st);
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
		free(v);
	}
}

bool timeline__wants_svg(const char *path)
{
	size_t n = strlen(path);

	return n >= 4 && !strcasecmp(path + n - 4, ".svg");
}

static int emit(FILE *f, const char *from, const char *to)
{
	return fwrite(from, 1, (size_t)(to - from), f) == (size_t)(to - from) ? 0 : -EIO;
}

int timeline__write(const struct mt_snapshot *s, FILE *f, bool svg)
{
	const char *svg_at = strstr(page, "@MEMTRACE_SVG@"), *stacks_at = strstr(page, "@MEMTRACE_STACKS@");

	if (svg) {
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
		chart(f, s);
	} else {
		emit(f, page, svg_at);
		chart(f, s);
		emit(f, svg_at + strlen("@MEMTRACE_SVG@"), stacks_at);
		stacks(f, s);
		fputs(stacks_at + strlen("@MEMTRACE_STACKS@"), f);
	}
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
