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
/* Start loading key's home slot into the cache: a lookup soon after waits less. */
void htab__prefetch(const struct htab *h, uint64_t key);
/* Remove key; copy its value to out (if not NULL). False if absent. */
bool htab__remove(struct htab *h, uint64_t key, void *out);

/*
 * A key for n words (a stack's frames), hashed a word at a time; never 0. Tables keyed by it
 * compare the words on a hit and rehash with the next seed on a collision.
 */
static inline uint64_t htab__hash_words(const uint64_t *p, uint32_t n, uint64_t seed)
{
	uint64_t h = (seed + n) * 0x9e3779b97f4a7c15ull;

	for (uint32_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	h ^= h >> 29;
	return h ? h : 1;
}

/* Visit every entry; stops early when fn returns non-zero (and returns that). */
typedef int (*htab_visit_fn)(uint64_t key, void *value, void *ctx);
int htab__each(const struct htab *h, htab_visit_fn fn, void *ctx);

#endif
