/* SPDX-License-Identifier: BSD-2-Clause */
/* Strings and names the symbolizer hands out, and where missing debug info comes from. */
#ifndef MT_SYMSTORE_H
#define MT_SYMSTORE_H

#include <stdbool.h>
#include <stddef.h>

struct debuginfod;

/* Everything the symbolizer hands out: it lives as long as the store. */
struct symstore;

/* fetch: where missing debug info comes from; NULL: nowhere. */
struct symstore *symstore__new(struct debuginfod *fetch);
void symstore__free(struct symstore *st);
const char *symstore__keep(struct symstore *st, const char *s);	/* a copy; NULL stays NULL */
void *symstore__alloc(struct symstore *st, size_t size);	/* zeroed */

/* A function's name as its object spells it, and as people read it (NULL: the same). */
struct sym_name {
	const char *raw, *demangled;
};
struct sym_name symstore__name(struct symstore *st, const char *raw);

/* Where missing debug info is fetched from (NULL: nowhere), and waiting for what was asked. */
struct debuginfod *symstore__fetcher(const struct symstore *st);
void symstore__wait(struct symstore *st);

#endif
