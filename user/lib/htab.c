// SPDX-License-Identifier: BSD-2-Clause
/*
 * Linear probing with backward-shift deletion: no tombstones, so a table that sees millions of
 * malloc/free pairs keeps short probe runs. Key 0 marks an empty slot.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/util.h"

struct htab {
	size_t vsize, slot;	/* value size; slot size = 8-byte key + value, 8-aligned */
	size_t cap, count;	/* cap is a power of two */
	unsigned char *slots;
};

static inline uint64_t *key_at(const struct htab *h, size_t i)
{
	return (uint64_t *)(h->slots + i * h->slot);
}

static inline size_t home(const struct htab *h, uint64_t key)
{
	key ^= key >> 31;
	key *= 0x7fb5d329728ea185ull;
	key ^= key >> 27;
	return key & (h->cap - 1);
}

struct htab *htab__new(size_t value_size)
{
	struct htab *h = xcalloc(1, sizeof(*h));

	h->vsize = value_size;
	h->slot = 8 + ((value_size + 7) & ~(size_t)7);
	h->cap = 64;
	h->slots = xcalloc(h->cap, h->slot);
	return h;
}

void htab__free(struct htab *h)
{
	if (!h)
		return;
	free(h->slots);
	free(h);
}

size_t htab__count(const struct htab *h) { return h->count; }

static size_t find(const struct htab *h, uint64_t key, bool *found)
{
	size_t i = home(h, key);

	for (;;) {
		uint64_t k = *key_at(h, i);

		if (k == key || k == 0) {
			*found = k == key;
			return i;
		}
		i = (i + 1) & (h->cap - 1);
	}
}

void *htab__lookup(const struct htab *h, uint64_t key)
{
	bool found;
	size_t i;

	if (!key)
		return NULL;
	i = find(h, key, &found);
	return found ? key_at(h, i) + 1 : NULL;
}

void htab__prefetch(const struct htab *h, uint64_t key)
{
	__builtin_prefetch(key_at(h, home(h, key)));
}

static void grow(struct htab *h)
{
	struct htab old = *h;

	h->cap *= 2;
	h->slots = xcalloc(h->cap, h->slot);
	for (size_t i = 0; i < old.cap; i++) {
		uint64_t k = *key_at(&old, i);
		bool found;

		if (k)
			memcpy(key_at(h, find(h, k, &found)), key_at(&old, i), h->slot);
	}
	free(old.slots);
}

void *htab__insert(struct htab *h, uint64_t key, bool *existed)
{
	bool found;
	size_t i;

	if ((h->count + 1) * 2 > h->cap)	/* keep the load under 1/2 */
		grow(h);
	i = find(h, key, &found);
	if (existed)
		*existed = found;
	if (!found) {
		*key_at(h, i) = key;
		memset(key_at(h, i) + 1, 0, h->slot - 8);
		h->count++;
	}
	return key_at(h, i) + 1;
}

/* Slots are whole words, and few: a loop beats a call to memcpy of a size it must check. */
static inline void copy_slot(struct htab *h, size_t to, size_t from)
{
	uint64_t *d = key_at(h, to);
	const uint64_t *s = key_at(h, from);

	for (size_t w = 0; w < h->slot / 8; w++)
		d[w] = s[w];
}

bool htab__remove(struct htab *h, uint64_t key, void *out)
{
	bool found;
	size_t i, j;

	if (!key)
		return false;
	i = find(h, key, &found);
	if (!found)
		return false;
	if (out)
		memcpy(out, key_at(h, i) + 1, h->vsize);
	/* Shift back every later entry of the run that may sit at or before its home slot. */
	for (j = (i + 1) & (h->cap - 1);; j = (j + 1) & (h->cap - 1)) {
		uint64_t k = *key_at(h, j);
		size_t hm;

		if (!k)
			break;
		hm = home(h, k);
		if (((j - hm) & (h->cap - 1)) >= ((j - i) & (h->cap - 1))) {
			copy_slot(h, i, j);
			i = j;
		}
	}
	*key_at(h, i) = 0;
	h->count--;
	return true;
}

int htab__each(const struct htab *h, htab_visit_fn fn, void *ctx)
{
	for (size_t i = 0; i < h->cap; i++) {
		uint64_t k = *key_at(h, i);
		int r;

		if (k && (r = fn(k, key_at(h, i) + 1, ctx)))
			return r;
	}
	return 0;
}
