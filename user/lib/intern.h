/* SPDX-License-Identifier: BSD-2-Clause */
/* Interning: gives each distinct byte string (a name, a packed tuple) a dense id, 1, 2, 3, ... */
#ifndef MT_INTERN_H
#define MT_INTERN_H

#include <stdbool.h>
#include <stddef.h>

struct intern;

struct intern *intern__new(void);
void intern__free(struct intern *t);

/* The id of key, added with the next id when new (*fresh tells which; fresh may be NULL). */
size_t intern__id(struct intern *t, const void *key, size_t len, bool *fresh);
size_t intern__str(struct intern *t, const char *s);	/* intern__id of s without its NUL */
size_t intern__count(const struct intern *t);
/* The key that got id (1 ... count); *len (if not NULL) receives its length. NUL-terminated. */
const void *intern__key(const struct intern *t, size_t id, size_t *len);

#endif
