/* SPDX-License-Identifier: BSD-2-Clause */
/* The calls inlined at an address, from an object's DWARF (libdw). */
#ifndef MT_INLINES_H
#define MT_INLINES_H

#include <stddef.h>
#include <elfutils/libdw.h>

/* One inlined call: the function inlined, and where the function around it called it. */
struct inline_call {
	const char *name;		/* its linkage (mangled) name, else its DWARF name; may be NULL */
	const char *call_file;		/* NULL when DWARF does not say */
	int call_line;			/* 0 when DWARF does not say */
};

/* One object's index of scopes; strings handed out live as long as its Dwarf. */
struct inlines;

struct inlines *inlines__new(void);
void inlines__free(struct inlines *x);

/*
 * The calls inlined at pc (a DWARF address) of the unit cudie, innermost first, into *calls
 * (grown as needed, *cap its room). Returns how many: 0 when the code at pc was not inlined.
 */
size_t inlines__at(struct inlines *x, Dwarf_Die *cudie, Dwarf_Addr pc, struct inline_call **calls,
		   size_t *cap);

#endif
