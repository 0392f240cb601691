// SPDX-License-Identifier: BSD-2-Clause
/* A process's cgroups, read from /proc/PID/cgroup and the cgroup file systems. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "lib/util.h"

#define CGROUP_FS "/sys/fs/cgroup"
#define V1_MEMORY CGROUP_FS "/memory"
#define CONTAINER_ID_LEN 64

const char *cgroup__v2_root(void)
{
	/* A hybrid hierarchy (cgroup v1 controllers) mounts v2 at /sys/fs/cgroup/unified. */
	return access(CGROUP_FS "/cgroup.controllers", F_OK) ? CGROUP_FS "/unified" : CGROUP_FS;
}

/* The path of pid's line in /proc/PID/cgroup whose controller list is `controllers` ("" for v2). */
static char *proc_cgroup(int pid, const char *controllers)
{
	char file[64], line[4096], *out = NULL;
	size_t clen = strlen(controllers);
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	f = fopen(file, "re");
	while (f && !out && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *path = c ? strchr(c + 1, ':') : NULL;

		if (!path || (size_t)(path - c - 1) != clen || strncmp(c + 1, controllers, clen))
			continue;
		path[1 + strcspn(path + 1, "\n")] = 0;
		out = xstrdup(path + 1);
	}
	if (f)
		fclose(f);
	return out;
}

char *cgroup__v2_path(int pid)
{
	return proc_cgroup(pid, "");
}

/* The 64-hex-digit run in [s, end) bounded by non-hex characters, or NULL. */
static const char *hex_id(const char *s, const char *end)
{
	const char *run = NULL;

	for (; s <= end; s++) {
		bool hex = s < end && (isdigit((unsigned char)*s) || (*s >= 'a' && *s <= 'f'));

		if (hex && !run)
			run = s;
		if (!hex && run) {
			if (s - run == CONTAINER_ID_LEN)
				return run;
			run = NULL;
		}
	}
	return NULL;
}

char *cgroup__container_id(const char *path)
{
	const char *found = NULL;

	if (!path)
		return NULL;
	/* The innermost component wins: a pod's path holds its containers' below it. */
	for (const char *c = path; *c; ) {
		const char *end = c + strcspn(c, "/"), *id = hex_id(c, end);

		if (id)
			found = id;
		c = *end ? end + 1 : end;
	}
	return found ? xasprintf("%.*s", CONTAINER_ID_LEN, found) : NULL;
}

static bool v2_has_memory(const char *root)
{
	char *file = xasprintf("%s/cgroup.controllers", root), line[512] = "";
	FILE *f = fopen(file, "re");
	bool yes = false;

	if (f && fgets(line, sizeof(line), f))
		for (char *w = strtok(line, " \n"); w && !yes; w = strtok(NULL, " \n"))
			yes = !strcmp(w, "memory");
	if (f)
		fclose(f);
	free(file);
	return yes;
}

char *cgroup__memory_dir(int pid)
{
	const char *root = cgroup__v2_root();
	char *path, *dir = NULL;

	if (v2_has_memory(root)) {
		path = cgroup__v2_path(pid);
		dir = path ? xasprintf("%s%s", root, strcmp(path, "/") ? path : "") : NULL;
	} else {
		path = proc_cgroup(pid, "memory");	/* v1: the memory hierarchy's own line */
		dir = path ? xasprintf("%s%s", V1_MEMORY, strcmp(path, "/") ? path : "") : NULL;
	}
	free(path);
	if (dir && access(dir, F_OK)) {
		free(dir);
		dir = NULL;
	}
	return dir;
}

/* A limit file's value: 0 for none ("max", v1's near-2^63 page-counter maximum, unreadable). */
static uint64_t read_limit(const char *dir, const char *name)
{
	char *file = xasprintf("%s/%s", dir, name), line[64] = "";
	unsigned long long v = 0;
	FILE *f = fopen(file, "re");

	if (f && fgets(line, sizeof(line), f) && sscanf(line, "%llu", &v) != 1)
		v = 0;
	if (f)
		fclose(f);
	free(file);
	return v >= (1ull << 62) ? 0 : v;
}

uint64_t cgroup__memory_limit(const char *dir)
{
	char *d = dir ? xstrdup(dir) : NULL;
	uint64_t least = 0;

	/* Up to the file system's root, which has no limit of its own. */
	while (d && strlen(d) > strlen(CGROUP_FS) && !strncmp(d, CGROUP_FS "/", strlen(CGROUP_FS) + 1)) {
		uint64_t v = read_limit(d, "memory.max");
		char *slash = strrchr(d, '/');

		if (!v)
			v = read_limit(d, "memory.limit_in_bytes");
		if (v && (!least || v < least))
			least = v;
		*slash = 0;
	}
	free(d);
	return least;
}
