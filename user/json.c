// SPDX-License-Identifier: BSD-2-Clause
/* A small streaming JSON writer: commas and escaping handled in one place. */
#include <inttypes.h>

#include "json.h"

void json__init(struct json *j, FILE *f, bool pretty)
{
	*j = (struct json){ .f = f, .pretty = pretty };
}

void json__quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void key(struct json *j, const char *k)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	if (j->pretty && j->depth) {
		fputc('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	if (k) {
		json__quote(j->f, k);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void open_(struct json *j, const char *k, char c)
{
	key(j, k);
	fputc(c, j->f);
	if (j->depth < 63)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct json *j, char c)
{
	bool had = j->need_comma[j->depth];

	j->depth--;
	if (j->pretty && had) {
		fputc('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	fputc(c, j->f);
	if (!j->depth && j->pretty)
		fputc('\n', j->f);
}

void json__begin_object(struct json *j, const char *k) { open_(j, k, '{'); }
void json__end_object(struct json *j) { close_(j, '}'); }
void json__begin_array(struct json *j, const char *k) { open_(j, k, '['); }
void json__end_array(struct json *j) { close_(j, ']'); }

void json__u64(struct json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRIu64, v);
}

void json__int(struct json *j, const char *k, int64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRId64, v);
}

void json__double(struct json *j, const char *k, double v)
{
	key(j, k);
	fprintf(j->f, "%.3f", v);
}

void json__str(struct json *j, const char *k, const char *v)
{
	key(j, k);
	if (v)
		json__quote(j->f, v);
	else
		fputs("null", j->f);
}

void json__bool(struct json *j, const char *k, bool v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}
