/* SPDX-License-Identifier: BSD-2-Clause */
/* Minimal TAP producer for unit tests: tests/run reads the "ok"/"not ok" lines. */
#ifndef MT_TAP_H
#define MT_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                                   \
	({                                                                              \
		int c_ = !!(cond);                                                      \
		printf("%sok %d - ", c_ ? "" : "not ", ++tap_n);                        \
		printf(__VA_ARGS__);                                                    \
		printf("\n");                                                           \
		if (!c_) {                                                              \
			tap_failed++;                                                   \
			printf("#   at %s:%d\n", __FILE__, __LINE__);                   \
		}                                                                       \
		c_;                                                                     \
	})

/* A check that cannot run on this machine: numbered like the others, counted by tests/run as
 * skipped, never as passed. */
#define skip(...)                                                                       \
	({                                                                              \
		printf("ok %d # SKIP ", ++tap_n);                                       \
		printf(__VA_ARGS__);                                                    \
		printf("\n");                                                           \
	})

#define is_u64(got, want, ...)                                                          \
	({                                                                              \
		uint64_t g_ = (got), w_ = (want);                                       \
		if (!ok(g_ == w_, __VA_ARGS__))                                         \
			printf("#   got %" PRIu64 ", want %" PRIu64 "\n", g_, w_);          \
	})

#define is_str(got, want, ...)                                                          \
	({                                                                              \
		const char *g_ = (got), *w_ = (want);                                   \
		if (!ok(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__))                      \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_);       \
	})

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
