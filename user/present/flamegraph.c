// SPDX-License-Identifier: BSD-2-Clause
/* A self-contained interactive HTML flame graph: zoom, search, tooltips, outstanding/allocated. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "present/flamegraph.h"
#include "lib/intern.h"
#include "present/label.h"

/* user/flamegraph.html as a C string, made by the Makefile. */
static const char page[] =
#include "flamegraph_html.h"
	;

#define DATA_MARKER "@MEMTRACE_DATA@"

/* A JSON string that is also safe inside <script>: '<' is escaped, so no "</script>" can appear. */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Names go in a table once; stacks refer to them by index, which keeps big graphs small. */
static size_t name_index(struct intern *names, const char *s)
{
	return intern__str(names, s) - 1;
}

static void stack_json(FILE *f, struct intern *names, const struct mt_proc *p,
		       const struct mt_stack *st)
{
	char buf[64];
	uint32_t i, first = label__first_frame(st);

	snprintf(buf, sizeof(buf), "%s (%" PRIu32 ")", p->comm, p->pid);
	fprintf(f, "[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%zu", st->outstanding_bytes,
		st->outstanding_allocations, st->allocated_bytes, st->allocations,
		name_index(names, buf));
	if (st->kind == MT_KIND_MMAP)
		fprintf(f, ",%zu", name_index(names, "[mmap]"));
	for (i = st->nframes; i-- > first;)
		fprintf(f, ",%zu", name_index(names, label__frame(&st->frames[i], LABEL_NAME, buf, sizeof(buf))));
	fputc(']', f);
}

static void data_json(FILE *f, const struct mt_snapshot *s)
{
	struct intern *names = intern__new();
	const char *sep = "";
	size_t i, j, len;

	fputs("{\"stacks\":[", f);
	for (i = 0; i < s->nprocs; i++) {
		for (j = 0; j < s->procs[i].nstacks; j++) {
			const struct mt_stack *st = &s->procs[i].stacks[j];

			if (!st->outstanding_bytes && !st->allocated_bytes)
				continue;
			fputs(sep, f);
			stack_json(f, names, &s->procs[i], st);
			sep = ",";
		}
	}
	fputs("],\"names\":[", f);
	for (i = 1; i <= intern__count(names); i++) {
		fputs(i > 1 ? "," : "", f);
		json_string(f, intern__key(names, i, &len));
	}
	fputs("]}", f);
	intern__free(names);
}

int flamegraph__write(const struct mt_snapshot *s, FILE *f)
{
	const char *marker = strstr(page, DATA_MARKER);
	int err = 0;

	fwrite(page, 1, (size_t)(marker - page), f);
	data_json(f, s);
	fputs(marker + strlen(DATA_MARKER), f);
	if (fflush(f) || ferror(f))
		err = errno ? -errno : -EIO;
	return err;
}
