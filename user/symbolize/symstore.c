// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the symbolizer hands out lives here until the end: one copy of each distinct string (file
 * names repeat across thousands of addresses), each function name with its demangled form, made
 * once. And where missing debug info comes from (debuginfod.c), shared by every object.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/util.h"
#include "symbolize/debuginfod.h"
#include "symbolize/demangle.h"
#include "symbolize/symstore.h"

struct symstore {
	void **mem;			/* everything handed out, freed at the end */
	size_t nmem, cap_mem;
	struct htab *names;		/* hash of a raw name -> struct sym_name */
	struct htab *strs;		/* hash of a string -> const char * */
	struct debuginfod *fetch;
};

struct symstore *symstore__new(struct debuginfod *fetch)
{
	struct symstore *st = xcalloc(1, sizeof(*st));

	st->names = htab__new(sizeof(struct sym_name));
	st->strs = htab__new(sizeof(const char *));
	st->fetch = fetch;
	return st;
}

void symstore__free(struct symstore *st)
{
	if (!st)
		return;
	debuginfod__free(st->fetch);
	for (size_t i = 0; i < st->nmem; i++)
		free(st->mem[i]);
	free(st->mem);
	htab__free(st->names);
	htab__free(st->strs);
	free(st);
}

static void *own(struct symstore *st, void *p)
{
	xgrow(&st->mem, &st->cap_mem, st->nmem + 1, sizeof(*st->mem));
	return st->mem[st->nmem++] = p;
}

void *symstore__alloc(struct symstore *st, size_t size)
{
	return own(st, xcalloc(1, size ? size : 1));
}

/* One copy of each distinct string (file names repeat across thousands of addresses). */
const char *symstore__keep(struct symstore *st, const char *s)
{
	uint64_t key;
	const char **e;
	bool existed;

	if (!s)
		return NULL;
	key = mt_hash(s, strlen(s), 0) | 1;
	e = htab__insert(st->strs, key, &existed);
	if (!existed)
		*e = own(st, xstrdup(s));
	else if (strcmp(*e, s))		/* two strings, one hash: this one goes uninterned */
		return own(st, xstrdup(s));
	return *e;
}

struct sym_name symstore__name(struct symstore *st, const char *raw)
{
	struct sym_name *e, n = { 0 };
	uint64_t key;
	bool existed;
	char *d;

	if (!raw)
		return n;
	key = mt_hash(raw, strlen(raw), 1) | 1;
	e = htab__lookup(st->names, key);
	if (e && !strcmp(e->raw, raw))
		return *e;
	n.raw = symstore__keep(st, raw);
	d = demangle(raw);
	n.demangled = d && strcmp(d, raw) ? own(st, d) : NULL;
	if (!n.demangled)
		free(d);
	e = htab__insert(st->names, key, &existed);
	if (!existed)
		*e = n;
	return n;
}

struct debuginfod *symstore__fetcher(const struct symstore *st)
{
	return st->fetch;
}

void symstore__wait(struct symstore *st)
{
	debuginfod__wait(st->fetch);
}
