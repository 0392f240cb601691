// SPDX-License-Identifier: BSD-2-Clause
/* Interning: gives each distinct byte string (a name, a packed tuple) a dense id, 1, 2, 3, ... */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/intern.h"
#include "lib/util.h"

struct key {
	char *data;
	size_t len;
};

struct intern {
	struct htab *ids;	/* hash of the key -> id; a colliding key is rehashed with the next seed */
	struct key *keys;	/* by id - 1 */
	size_t nkeys, cap;
};

struct intern *intern__new(void)
{
	struct intern *t = xcalloc(1, sizeof(*t));

	t->ids = htab__new(sizeof(size_t));
	return t;
}

void intern__free(struct intern *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nkeys; i++)
		free(t->keys[i].data);
	free(t->keys);
	htab__free(t->ids);
	free(t);
}

static bool same(const struct key *k, const void *data, size_t len)
{
	return k->len == len && !memcmp(k->data, data, len);
}

static size_t add(struct intern *t, size_t *slot, const void *data, size_t len)
{
	struct key *k;

	xgrow(&t->keys, &t->cap, t->nkeys + 1, sizeof(*t->keys));
	k = &t->keys[t->nkeys++];
	k->data = xmalloc(len + 1);
	memcpy(k->data, data, len);
	k->data[len] = '\0';
	k->len = len;
	*slot = t->nkeys;
	return *slot;
}

size_t intern__id(struct intern *t, const void *key, size_t len, bool *fresh)
{
	uint64_t seed, h;
	bool existed;
	size_t *slot;

	for (seed = 0;; seed++) {
		h = mt_hash(key, len, seed) | 1;	/* htab reserves key 0 */
		slot = htab__insert(t->ids, h, &existed);
		if (!existed || same(&t->keys[*slot - 1], key, len))
			break;
	}
	if (fresh)
		*fresh = !existed;
	return existed ? *slot : add(t, slot, key, len);
}

size_t intern__str(struct intern *t, const char *s)
{
	return intern__id(t, s, strlen(s), NULL);
}

size_t intern__count(const struct intern *t)
{
	return t->nkeys;
}

const void *intern__key(const struct intern *t, size_t id, size_t *len)
{
	if (len)
		*len = t->keys[id - 1].len;
	return t->keys[id - 1].data;
}
