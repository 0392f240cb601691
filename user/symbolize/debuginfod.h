/* SPDX-License-Identifier: BSD-2-Clause */
/* Debug files fetched from debuginfod servers (elfutils' client, with its cache), on a thread. */
#ifndef MT_DEBUGINFOD_H
#define MT_DEBUGINFOD_H

#include <stdbool.h>

struct debuginfod;

/* A client of the servers in urls (space-separated, as $DEBUGINFOD_URLS); NULL when none. */
struct debuginfod *debuginfod__new(const char *urls);
/* Stops a fetch under way (the transfer is cancelled) and the thread. NULL is fine. */
void debuginfod__free(struct debuginfod *d);

enum debuginfod_state {
	DEBUGINFOD_PENDING,		/* being fetched */
	DEBUGINFOD_FOUND,		/* *path is the file in the client's cache */
	DEBUGINFOD_NONE,		/* no server has it, or none could be reached */
};

/*
 * The debug file of build_id (lower-case hex). The first call asks for it and returns at once:
 * the fetch goes on on the client's thread. *path lives as long as d.
 */
enum debuginfod_state debuginfod__get(struct debuginfod *d, const char *build_id, const char **path);

/*
 * Wait until everything asked for has come or failed: one line on stderr says so while it lasts,
 * and one warning says when no server could be reached.
 */
void debuginfod__wait(struct debuginfod *d);

#endif
