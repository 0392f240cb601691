// SPDX-License-Identifier: BSD-2-Clause
/* Folded stacks ("comm;outer;...;inner value"), the input of flamegraph.pl, speedscope, inferno. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "present/folded.h"
#include "present/label.h"
#include "lib/util.h"

struct line {
	char *path;
	uint64_t value;
};

int mt_folded_value_parse(const char *s, enum mt_folded_value *out)
{
	static const char *const names[] = {
		[MT_FOLDED_OUTSTANDING] = "outstanding",
		[MT_FOLDED_ALLOCATED] = "allocated",
		[MT_FOLDED_BLOCKS] = "blocks",
		[MT_FOLDED_GC] = "gc",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum mt_folded_value)i;
			return 0;
		}
	}
	mt_err("outstanding, allocated, blocks or gc", "unknown folded value '%s'", s);
	return -EINVAL;
}

static uint64_t stack_value(const struct mt_stack *st, enum mt_folded_value v)
{
	switch (v) {
	case MT_FOLDED_ALLOCATED:
		return st->allocated_bytes;
	case MT_FOLDED_BLOCKS:
		return st->outstanding_allocations;
	case MT_FOLDED_GC:
		return st->gc_reclaimed_bytes;
	default:
		return st->outstanding_bytes;
	}
}

/* ';' separates frames and a newline ends a line, so neither may appear inside a name. Spaces
 * may: readers split the value off at the last space. */
static void put_name(FILE *m, const char *name)
{
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;

		fputc(c == ';' ? ':' : c < 0x20 || c == 0x7f ? '?' : c, m);
	}
}

static char *stack_path(const struct mt_proc *p, const struct mt_stack *st)
{
	char *path = NULL, buf[64];
	size_t size = 0;
	FILE *m = open_memstream(&path, &size);
	uint32_t i, first = label__first_frame(st);

	if (!m)
		abort();	/* only ENOMEM, as xmalloc would */
	put_name(m, p->comm);
	if (st->kind == MT_KIND_MMAP)
		fputs(";[mmap]", m);
	for (i = st->nframes; i-- > first;) {
		fputc(';', m);
		put_name(m, label__frame(&st->frames[i], LABEL_NAME, buf, sizeof(buf)));
	}
	fclose(m);
	return path;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->path, ((const struct line *)b)->path);
}

static size_t collect(const struct mt_snapshot *s, enum mt_folded_value v, struct line **out)
{
	struct line *lines = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < s->nprocs; i++) {
		const struct mt_proc *p = &s->procs[i];

		for (j = 0; j < p->nstacks; j++) {
			uint64_t value = stack_value(&p->stacks[j], v);

			if (!value)
				continue;
			xgrow(&lines, &cap, n + 1, sizeof(*lines));
			lines[n].path = stack_path(p, &p->stacks[j]);
			lines[n++].value = value;
		}
	}
	*out = lines;
	return n;
}

/* Sorted, so that the same stack from two processes of one name (or two stacks that differ only
 * in hidden plumbing) becomes one line, as readers would merge them anyway. */
static int print_merged(FILE *f, struct line *lines, size_t n)
{
	size_t i = 0, j;

	qsort(lines, n, sizeof(*lines), line_cmp);
	while (i < n) {
		uint64_t sum = 0;

		for (j = i; j < n && !strcmp(lines[j].path, lines[i].path); j++)
			sum += lines[j].value;
		if (fprintf(f, "%s %" PRIu64 "\n", lines[i].path, sum) < 0)
			return -EIO;
		i = j;
	}
	return 0;
}

int folded__write(const struct mt_snapshot *s, FILE *f, enum mt_folded_value v)
{
	struct line *lines;
	size_t i, n = collect(s, v, &lines);
	int err = print_merged(f, lines, n);

	if (!err && fflush(f))
		err = -errno;
	for (i = 0; i < n; i++)
		free(lines[i].path);
	free(lines);
	return err;
}
