// SPDX-License-Identifier: BSD-2-Clause
/*
 * A small JSON reader into a tree, for memtrace diff. Strict RFC 8259 (no comments, no trailing
 * commas), nesting bounded so hostile input cannot exhaust the stack, integers kept exact as u64
 * because byte counts do not survive a trip through a double.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonread.h"
#include "lib/util.h"

#define MAX_DEPTH 128

struct parser {
	const char *s, *p, *end;
	const char *err_at;
	const char *err_what;
};

static bool fail(struct parser *ps, const char *at, const char *what)
{
	if (!ps->err_what) {
		ps->err_at = at;
		ps->err_what = at >= ps->end ? "unexpected end of input" : what;
	}
	return false;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return fail(ps, ps->p, "unknown literal");
	ps->p += n;
	return true;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static void put_utf8(char **o, unsigned cp)
{
	unsigned char *u = (unsigned char *)*o;

	if (cp < 0x80) {
		*u++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*u++ = (unsigned char)(0xc0 | cp >> 6);
		*u++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*u++ = (unsigned char)(0xe0 | cp >> 12);
		*u++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		*u++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*u++ = (unsigned char)(0xf0 | cp >> 18);
		*u++ = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		*u++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		*u++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	*o = (char *)u;
}

/* \uXXXX, with a surrogate pair when the first half asks for one; p is after the 'u'. */
static bool unicode_escape(struct parser *ps, const char **p, char **o)
{
	int hi = ps->end - *p >= 4 ? hex4(*p) : -1, lo;

	if (hi < 0)
		return fail(ps, *p, "bad \\u escape");
	*p += 4;
	if (hi >= 0xd800 && hi < 0xdc00) {
		if (ps->end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u' ||
		    (lo = hex4(*p + 2)) < 0xdc00 || lo >= 0xe000)
			return fail(ps, *p, "lone surrogate in \\u escape");
		*p += 6;
		put_utf8(o, 0x10000 + ((unsigned)(hi - 0xd800) << 10) + (unsigned)(lo - 0xdc00));
	} else if (hi >= 0xdc00 && hi < 0xe000) {
		return fail(ps, *p - 4, "lone surrogate in \\u escape");
	} else {
		put_utf8(o, (unsigned)hi);
	}
	return true;
}

static bool escape(struct parser *ps, const char **p, char **o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *c = *p < ps->end ? strchr(from, **p) : NULL;

	if (*p < ps->end && **p == 'u') {
		(*p)++;
		return unicode_escape(ps, p, o);
	}
	if (!c || !*c)
		return fail(ps, *p, "bad escape in string");
	*(*o)++ = to[c - from];
	(*p)++;
	return true;
}

/* A string's decoded bytes are never longer than its source: one pass into a buffer that size. */
static bool string(struct parser *ps, char **out)
{
	const char *p = ++ps->p, *q = p;
	char *o;

	while (q < ps->end && *q != '"')
		q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
	if (q >= ps->end)
		return fail(ps, ps->p - 1, "unterminated string");
	*out = o = xmalloc((size_t)(q - p) + 1);
	while (p < q) {
		if ((unsigned char)*p < 0x20)
			return fail(ps, p, "control character in string");
		if (*p != '\\')
			*o++ = *p++;
		else if (p++, !escape(ps, &p, &o))
			return false;
	}
	*o = 0;
	ps->p = q + 1;
	return true;
}

static const char *digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

static bool number(struct parser *ps, struct jr_value *v)
{
	const char *p = ps->p, *int_end;
	char buf[128];
	bool neg = p < ps->end && *p == '-', integer = true;

	p += neg;
	if (p >= ps->end || *p < '0' || *p > '9')
		return fail(ps, ps->p, "bad number");
	int_end = *p == '0' ? p + 1 : digits(p, ps->end);
	p = int_end;
	if (p < ps->end && *p == '.') {
		integer = false;
		if (digits(p + 1, ps->end) == p + 1)
			return fail(ps, p, "bad number");
		p = digits(p + 1, ps->end);
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		integer = false;
		p += p + 1 < ps->end && (p[1] == '+' || p[1] == '-') ? 2 : 1;
		if (digits(p, ps->end) == p)
			return fail(ps, p, "bad number");
		p = digits(p, ps->end);
	}
	if ((size_t)(p - ps->p) >= sizeof(buf))
		return fail(ps, ps->p, "number too long");
	memcpy(buf, ps->p, (size_t)(p - ps->p));
	buf[p - ps->p] = 0;
	v->type = JR_NUMBER;
	v->number = strtod(buf, NULL);
	if (integer && !neg) {
		errno = 0;
		v->u64 = strtoull(buf, NULL, 10);
		v->exact = errno == 0;
	}
	ps->p = p;
	return true;
}

static bool value(struct parser *ps, struct jr_value *v, int depth);

static bool array(struct parser *ps, struct jr_value *v, int depth)
{
	size_t cap = 0;

	v->type = JR_ARRAY;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']')
		return ps->p++, true;
	for (;;) {
		xgrow(&v->items, &cap, v->n + 1, sizeof(*v->items));
		if (!value(ps, &v->items[v->n++], depth + 1))
			return false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ']')
			return ps->p++, true;
		if (ps->p >= ps->end || *ps->p != ',')
			return fail(ps, ps->p, "expected ',' or ']' in array");
		ps->p++;
	}
}

static bool member(struct parser *ps, struct jr_value *v, size_t *cap, int depth)
{
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != '"')
		return fail(ps, ps->p, "expected a string key in object");
	xgrow(&v->items, cap, v->n + 1, sizeof(*v->items));
	v->keys = xrealloc(v->keys, *cap * sizeof(*v->keys));
	v->keys[v->n] = NULL;
	v->n++;
	if (!string(ps, &v->keys[v->n - 1]))
		return false;
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != ':')
		return fail(ps, ps->p, "expected ':' in object");
	ps->p++;
	return value(ps, &v->items[v->n - 1], depth + 1);
}

static bool object(struct parser *ps, struct jr_value *v, int depth)
{
	size_t cap = 0;

	v->type = JR_OBJECT;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}')
		return ps->p++, true;
	for (;;) {
		if (!member(ps, v, &cap, depth))
			return false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '}')
			return ps->p++, true;
		if (ps->p >= ps->end || *ps->p != ',')
			return fail(ps, ps->p, "expected ',' or '}' in object");
		ps->p++;
	}
}

static bool value(struct parser *ps, struct jr_value *v, int depth)
{
	skip_ws(ps);
	if (depth > MAX_DEPTH)
		return fail(ps, ps->p, "nested too deeply");
	if (ps->p >= ps->end)
		return fail(ps, ps->p, "unexpected end of input");
	switch (*ps->p) {
	case '{':
		return object(ps, v, depth);
	case '[':
		return array(ps, v, depth);
	case '"':
		v->type = JR_STRING;
		return string(ps, &v->string);
	case 't':
		v->type = JR_BOOL;
		v->boolean = true;
		return literal(ps, "true");
	case 'f':
		v->type = JR_BOOL;
		return literal(ps, "false");
	case 'n':
		return literal(ps, "null");
	default:
		return number(ps, v);
	}
}

static void release(struct jr_value *v)
{
	for (size_t i = 0; i < v->n; i++) {
		release(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
}

struct jr_value *jr__parse(const char *text, size_t len, size_t *err_at, const char **err_what)
{
	struct parser ps = { text, text, text + len, NULL, NULL };
	struct jr_value *v = xcalloc(1, sizeof(*v));

	if (value(&ps, v, 0)) {
		skip_ws(&ps);
		if (ps.p == ps.end)
			return v;
		fail(&ps, ps.p, "text after the JSON value");
	}
	*err_at = (size_t)(ps.err_at - text);
	*err_what = ps.err_what;
	jr__free(v);
	return NULL;
}

void jr__free(struct jr_value *v)
{
	if (!v)
		return;
	release(v);
	free(v);
}

const struct jr_value *jr__get(const struct jr_value *v, const char *key)
{
	const struct jr_value *found = NULL;

	for (size_t i = 0; v && v->type == JR_OBJECT && i < v->n; i++)
		if (!strcmp(v->keys[i], key))
			found = &v->items[i];
	return found;
}

const struct jr_value *jr__at(const struct jr_value *v, size_t i)
{
	return v && v->type == JR_ARRAY && i < v->n ? &v->items[i] : NULL;
}

size_t jr__len(const struct jr_value *v)
{
	return v && (v->type == JR_ARRAY || v->type == JR_OBJECT) ? v->n : 0;
}

const char *jr__str(const struct jr_value *v)
{
	return v && v->type == JR_STRING ? v->string : NULL;
}

bool jr__u64(const struct jr_value *v, uint64_t *out)
{
	if (!v || v->type != JR_NUMBER || !v->exact)
		return false;
	*out = v->u64;
	return true;
}
