/* SPDX-License-Identifier: BSD-2-Clause */
/* Open-addressing hash table from non-zero 64-bit keys to fixed-size values. */
#ifndef MT_HTAB_H
#define MT_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct htab;

struct htab *htab__new(size_t value_size);
void htab__free(struct htab *h);
size_t htab__count(const struct htab *h);

/* The value stored under key, or NULL. Pointers stay valid until the next insert or remove. */
void *htab__lookup(const struct htab *h, uint64_t key);
/* The value under key, inserted zero-filled if absent (*existed tells which). key must be != 0. */
void *htab__insert(struct htab *h, uint64_t key, bool *existed);
/* Remove key; copy its value to out (if not NULL). False if absent. */
bool htab__remove(struct htab *h, uint64_t key, void *out);

/* Visit every entry; stops early when fn returns non-zero (and returns that). */
typedef int (*htab_visit_fn)(uint64_t key, void *value, void *ctx);
int htab__each(const struct htab *h, htab_visit_fn fn, void *ctx);

#endif
