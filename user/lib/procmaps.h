/* SPDX-License-Identifier: BSD-2-Clause */
/* /proc/PID/maps, read into a sorted array. */
#ifndef MT_PROCMAPS_H
#define MT_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>

struct pmap {
	uint64_t start, end, offset;
	uint64_t dev, inode;		/* dev as makedev(major, minor) */
	char perms[5];
	char *path;			/* "" for anonymous mappings */
};

struct procmaps {
	struct pmap *maps;
	size_t n;
};

/* Returns 0 or -errno (-ESRCH when the process is gone). */
int procmaps__read(int pid, struct procmaps *out);
void procmaps__release(struct procmaps *m);
const struct pmap *procmaps__find(const struct procmaps *m, uint64_t addr);
/* VmRSS of a live process from /proc/PID/status, in KiB; 0 when it is gone or has none. */
uint64_t procmaps__rss_kb(int pid);

#endif
