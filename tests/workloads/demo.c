// SPDX-License-Identifier: BSD-2-Clause
/*
 * The demo: a toy request handler with a response cache that never evicts (the leak), a
 * per-request scratch buffer that is freed (no leak), and a one-time config table (not growing).
 * Usage: demo [SECONDS]   (default 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct entry {
	char *key, *body;
	struct entry *next;
};

static struct entry *cache;
static char *volatile config;

__attribute__((noinline)) static void load_config(void)
{
	config = calloc(64, 1024);	/* 64 KiB, once */
}

__attribute__((noinline)) static void cache_insert(const char *key, size_t len)
{
	struct entry *e = malloc(sizeof(*e));

	e->key = strdup(key);
	e->body = malloc(len);	/* nothing ever removes entries: this is the leak */
	memset(e->body, 'x', len);
	e->next = cache;
	cache = e;
}

__attribute__((noinline)) static void handle_request(int i)
{
	char key[32];
	char *scratch = malloc(16384);	/* freed below: not a leak */

	snprintf(scratch, 16384, "request %d", i);
	snprintf(key, sizeof(key), "/item/%d", i);
	cache_insert(key, 2048);
	free(scratch);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	struct timespec start, now;

	load_config();
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0;; i++) {
		handle_request(i);
		usleep(20000);	/* ~50 requests a second */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 >= seconds)
			break;
	}
	printf("demo: served requests for %.0f s\n", seconds);
	return 0;
}
