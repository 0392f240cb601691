// SPDX-License-Identifier: BSD-2-Clause
/*
 * The calls inlined at an address: the concrete DW_TAG_inlined_subroutine DIEs whose ranges hold
 * it, from the function the code lies in inward. libdw's dwarf_getscopes() walks the whole unit on
 * each call, and past an inlined instance it climbs the scopes of the inlined function's abstract
 * definition, not its callers (eu-addr2line -i walks the unit a second time for those). On a big
 * object that is a walk of thousands of DIEs per address. Here each unit's functions, and each
 * scope's child scopes, are indexed by address the first time they are needed: a lookup is then
 * one binary search per level of nesting.
 */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/util.h"
#include "symbolize/inlines.h"

/* Where a child scope's code lies: one range of it (a scope may have several). */
struct range {
	Dwarf_Addr lo, hi;
	Dwarf_Off die;
};

/* A scope's child scopes (a unit's: its functions), by address; siblings never overlap. */
struct kids {
	size_t n;
	struct range *v;
};

struct inlines {
	struct htab *kids;		/* DIE offset + 1 -> struct kids */
};

struct inlines *inlines__new(void)
{
	struct inlines *x = xcalloc(1, sizeof(*x));

	x->kids = htab__new(sizeof(struct kids));
	return x;
}

static int free_kids(uint64_t key, void *value, void *ctx)
{
	(void)key;
	(void)ctx;
	free(((struct kids *)value)->v);
	return 0;
}

void inlines__free(struct inlines *x)
{
	if (!x)
		return;
	htab__each(x->kids, free_kids, NULL);
	htab__free(x->kids);
	free(x);
}

struct collect {
	struct range *v;
	size_t n, cap;
};

static void add_ranges(struct collect *c, Dwarf_Die *die)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (hi <= lo)
			continue;
		xgrow(&c->v, &c->cap, c->n + 1, sizeof(*c->v));
		c->v[c->n++] = (struct range){ lo, hi, dwarf_dieoffset(die) };
	}
}

/*
 * The scopes directly inside parent that hold code. In a unit, functions may sit inside
 * namespaces (GCC puts them there) or modules; they are looked into. Abstract definitions and
 * declarations have no ranges and drop out.
 */
static void collect(struct collect *c, Dwarf_Die *parent, int depth)
{
	Dwarf_Die child;

	if (dwarf_child(parent, &child) != 0)
		return;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_namespace:
		case DW_TAG_module:
			if (depth < 64)	/* only a corrupt unit nests deeper */
				collect(c, &child, depth + 1);
			break;
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
			add_ranges(c, &child);
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static int by_lo(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static const struct kids *kids_of(struct inlines *x, Dwarf_Die *die)
{
	bool existed;
	struct kids *k = htab__insert(x->kids, dwarf_dieoffset(die) + 1, &existed);
	struct collect c = { 0 };

	if (existed)
		return k;
	collect(&c, die, 0);
	qsort(c.v, c.n, sizeof(*c.v), by_lo);
	k->n = c.n;
	k->v = c.v;
	return k;
}

static const struct range *find(const struct kids *k, Dwarf_Addr pc)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {	/* the last range starting at or before pc */
		size_t mid = lo + (hi - lo) / 2;

		if (k->v[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && pc < k->v[lo - 1].hi ? &k->v[lo - 1] : NULL;
}

static const char *str_attr(Dwarf_Die *die, int name)
{
	Dwarf_Attribute a;

	return dwarf_formstring(dwarf_attr_integrate(die, name, &a));
}

/* A function's name as its object spells it: linkage name first, so C++ keeps its scope. */
static const char *function_name(Dwarf_Die *die)
{
	return str_attr(die, DW_AT_linkage_name) ?: str_attr(die, DW_AT_MIPS_linkage_name) ?:
	       str_attr(die, DW_AT_name);
}

static int udata(Dwarf_Die *die, int name, Dwarf_Word *v)
{
	Dwarf_Attribute a;

	return dwarf_formudata(dwarf_attr(die, name, &a), v);
}

static void describe(Dwarf_Die *die, Dwarf_Files *files, size_t nfiles, struct inline_call *out)
{
	Dwarf_Word v;

	out->name = function_name(die);
	out->call_file = files && !udata(die, DW_AT_call_file, &v) && v < nfiles ?
				 dwarf_filesrc(files, v, NULL, NULL) : NULL;
	out->call_line = !udata(die, DW_AT_call_line, &v) && v <= 0x7fffffff ? (int)v : 0;
}

size_t inlines__at(struct inlines *x, Dwarf_Die *cudie, Dwarf_Addr pc, struct inline_call **calls,
		   size_t *cap)
{
	Dwarf *dw = dwarf_cu_getdwarf(cudie->cu);
	Dwarf_Files *files = NULL;
	size_t nfiles = 0, n = 0;
	Dwarf_Die scope = *cudie, die;
	const struct range *r;

	if (!dw)
		return 0;
	if (dwarf_getsrcfiles(cudie, &files, &nfiles))
		files = NULL;
	/* Outermost first, down to the innermost scope holding pc; a bound against a corrupt unit. */
	for (int depth = 0; depth < 4096 && (r = find(kids_of(x, &scope), pc)); depth++) {
		if (!dwarf_offdie(dw, r->die, &die))
			break;
		switch (dwarf_tag(&die)) {
		case DW_TAG_subprogram:	/* a nested function: calls inlined into it start anew */
			n = 0;
			break;
		case DW_TAG_inlined_subroutine:
			xgrow(calls, cap, n + 1, sizeof(**calls));
			describe(&die, files, nfiles, &(*calls)[n++]);
			break;
		default:
			break;
		}
		scope = die;
	}
	for (size_t i = 0; i < n / 2; i++) {	/* innermost first */
		struct inline_call t = (*calls)[i];

		(*calls)[i] = (*calls)[n - 1 - i];
		(*calls)[n - 1 - i] = t;
	}
	return n;
}
