// SPDX-License-Identifier: BSD-2-Clause
/* The hash table under every live block: inserts, removes with backward shift, growth. */
#include <stdlib.h>

#include "lib/htab.h"
#include "tap.h"

static int count_each(uint64_t key, void *value, void *ctx)
{
	(void)key;
	(void)value;
	++*(int *)ctx;
	return 0;
}

int main(void)
{
	struct htab *h = htab__new(sizeof(uint64_t));
	bool existed, all = true;
	uint64_t out = 0;
	int visited = 0;

	*(uint64_t *)htab__insert(h, 42, &existed) = 7;
	ok(!existed, "a new key is new");
	is_u64(*(uint64_t *)htab__lookup(h, 42), 7, "value found again");
	htab__insert(h, 42, &existed);
	ok(existed, "inserting an existing key finds it");
	ok(htab__lookup(h, 0) == NULL, "key 0 is never stored");

	/* 100k keys that collide in the low bits (heap addresses are 16-byte aligned). */
	for (uint64_t i = 1; i <= 100000; i++)
		*(uint64_t *)htab__insert(h, i << 4, NULL) = i;
	is_u64(htab__count(h), 100001, "count after 100k inserts");
	for (uint64_t i = 1; i <= 100000; i += 2)
		all &= htab__remove(h, i << 4, &out) && out == i;
	ok(all, "removing every odd key returns its value");
	for (uint64_t i = 1; i <= 100000; i++) {
		uint64_t *v = htab__lookup(h, i << 4);

		all &= (i % 2) ? v == NULL : (v && *v == i);
	}
	ok(all, "after removals, odd keys are gone and even keys still found (backward shift kept runs)");
	ok(!htab__remove(h, 3 << 4, NULL), "removing an absent key fails");
	htab__each(h, count_each, &visited);
	is_u64(visited, 50001, "each visits every entry once");
	htab__free(h);
	return done_testing();
}
