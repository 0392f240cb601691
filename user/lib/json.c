// SPDX-License-Identifier: BSD-2-Clause
/*
 * A small streaming JSON writer: commas and escaping handled in one place. A report writes its JSON
 * from one thread, so the stream is written with the unlocked calls: a lock per call was most of
 * the time a large report took.
 */
#include <inttypes.h>

#include "lib/json.h"

void json__init(struct json *j, FILE *f, bool pretty)
{
	*j = (struct json){ .f = f, .pretty = pretty };
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one (RFC 3629). */
static int utf8_len(const unsigned char *p)
{
	int n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
	uint32_t c;

	if (*p < 0x80)
		return 1;
	if (!n || *p > 0xf4)
		return 0;
	c = *p & (0x3f >> (n - 1));
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;	/* overlong, out of range or a surrogate */
	return n;
}

/* The escape for the byte at p, which is not valid UTF-8 (n == 0) or must not appear as is. */
static void escape(FILE *f, const unsigned char *p, int n)
{
	if (!n)
		fputs_unlocked("\\ufffd", f);
	else if (*p == '"' || *p == '\\')
		fprintf(f, "\\%c", *p);
	else if (*p == '\n')
		fputs_unlocked("\\n", f);
	else if (*p == '\t')
		fputs_unlocked("\\t", f);
	else
		fprintf(f, "\\u%04x", *p);
}

/*
 * Names come from binaries, DWARF and other processes' memory, none of which promises UTF-8; a
 * JSON reader must never choke on ours, so each byte that is not valid UTF-8 becomes U+FFFD.
 * Plain text goes out a run at a time: a report's JSON is mostly names, and a call per character
 * made writing it slower than everything else a report does.
 */
void json__quote(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;

	fputc_unlocked('"', f);
	while (*p) {
		int n = utf8_len(p);

		if (n && *p >= 0x20 && *p != '"' && *p != '\\') {
			p += n;
			continue;
		}
		fwrite_unlocked(run, 1, (size_t)(p - run), f);
		escape(f, p, n);
		p += n ? n : 1;
		run = p;
	}
	fwrite_unlocked(run, 1, (size_t)(p - run), f);
	fputc_unlocked('"', f);
}

static void key(struct json *j, const char *k)
{
	if (j->need_comma[j->depth])
		fputc_unlocked(',', j->f);
	j->need_comma[j->depth] = true;
	if (j->pretty && j->depth) {
		fputc_unlocked('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs_unlocked("  ", j->f);
	}
	if (k) {
		json__quote(j->f, k);
		fputs_unlocked(j->pretty ? ": " : ":", j->f);
	}
}

static void open_(struct json *j, const char *k, char c)
{
	key(j, k);
	fputc_unlocked(c, j->f);
	if (j->depth < 63)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct json *j, char c)
{
	bool had = j->need_comma[j->depth];

	j->depth--;
	if (j->pretty && had) {
		fputc_unlocked('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs_unlocked("  ", j->f);
	}
	fputc_unlocked(c, j->f);
	if (!j->depth && j->pretty)
		fputc_unlocked('\n', j->f);
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
		fputs_unlocked("null", j->f);
}

void json__bool(struct json *j, const char *k, bool v)
{
	key(j, k);
	fputs_unlocked(v ? "true" : "false", j->f);
}
