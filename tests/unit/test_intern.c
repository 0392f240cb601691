// SPDX-License-Identifier: BSD-2-Clause
/* Interning: dense ids in order of first sight, equal keys share one, keys read back intact. */
#include <stdbool.h>

#include "lib/intern.h"
#include "tap.h"

int main(void)
{
	struct intern *t = intern__new();
	const char bin[] = { 'a', 0, 'b' };
	bool fresh = false;
	size_t len = 0, i;
	char key[16];

	is_u64(intern__str(t, ""), 1, "the first key gets id 1");
	is_u64(intern__str(t, "malloc"), 2, "the next key gets id 2");
	is_u64(intern__str(t, ""), 1, "a key seen before keeps its id");
	is_u64(intern__id(t, bin, 3, &fresh), 3, "a key with a NUL inside is its own key");
	ok(fresh, "and is reported fresh");
	is_u64(intern__id(t, bin, 1, &fresh), 4, "its prefix up to the NUL is another key");
	intern__id(t, bin, 3, &fresh);
	ok(!fresh, "seen again, it is not fresh");
	ok(intern__key(t, 3, &len) && len == 3 && !memcmp(intern__key(t, 3, NULL), bin, 3),
	   "keys read back with their length");
	is_str(intern__key(t, 2, NULL), "malloc", "string keys read back NUL-terminated");
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		if (intern__str(t, key) != i + 5)
			break;
	}
	is_u64(i, 10000, "ids stay dense across table growth");
	snprintf(key, sizeof(key), "k%d", 1234);
	is_u64(intern__str(t, key), 1234 + 5, "and findable after it");
	is_u64(intern__count(t), 10004, "count is the number of distinct keys");
	intern__free(t);
	return done_testing();
}
