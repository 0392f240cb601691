// SPDX-License-Identifier: BSD-2-Clause
/*
 * Sampling mode's plumbing on memtrace's side. The library (sample/) does the sampling inside the
 * process; memtrace only has to put it there (-- CMD) or find it there (-p PID), and know the
 * mean interval the estimates are scaled by.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/procmaps.h"
#include "lib/procmem.h"
#include "probe/sampler.h"
#include "lib/util.h"

#ifndef MT_LIBDIR
#define MT_LIBDIR "/usr/local/lib/memtrace"
#endif

char *sampler__library(void)
{
	char self[PATH_MAX], *slash, *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			path = xasprintf("%s/%s", self, MT_SAMPLE_LIB);
			if (!access(path, R_OK))
				return path;
			free(path);
		}
	}
	path = xasprintf("%s/%s", MT_LIBDIR, MT_SAMPLE_LIB);
	if (!access(path, R_OK))
		return path;
	mt_err("build it with make (it lands beside memtrace) or install it with make install",
	       "%s not found next to memtrace nor in %s", MT_SAMPLE_LIB, MT_LIBDIR);
	free(path);
	return NULL;
}

int sampler__parse_bytes(const char *arg, uint64_t *out)
{
	char *end;
	unsigned long long n;
	int shift = 0;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	end += shift != 0;
	if (errno || end == arg || *end || !n || *arg == '-' || n > (ULLONG_MAX >> 30)) {
		mt_err("give the mean bytes between samples, e.g. 524288 or 512K",
		       "invalid --sample-bytes '%s'", arg);
		return -EINVAL;
	}
	*out = (uint64_t)n << shift;
	return 0;
}

void sampler__setenv(const char *lib, uint64_t bytes)
{
	const char *old = getenv("LD_PRELOAD");
	char *preload = old && *old ? xasprintf("%s:%s", lib, old) : xstrdup(lib);
	char *mean = xasprintf("%llu", (unsigned long long)bytes);

	setenv("LD_PRELOAD", preload, 1);
	setenv("MEMTRACE_SAMPLE_BYTES", mean, 1);
	free(preload);
	free(mean);
}

static int is_sample_lib(const char *path)
{
	const char *base = strrchr(path, '/');

	return !strcmp(base ? base + 1 : path, MT_SAMPLE_LIB);
}

char *sampler__of_pid(int pid)
{
	struct procmaps m;
	char *found = NULL;

	if (procmaps__read(pid, &m))
		return NULL;
	for (size_t i = 0; i < m.n && !found; i++)
		if (is_sample_lib(m.maps[i].path))
			found = xasprintf("/proc/%d/root%s", pid, m.maps[i].path);
	procmaps__release(&m);
	return found;
}

uint64_t sampler__bytes_of_pid(int pid)
{
	char *v = procmem__env(pid, "MEMTRACE_SAMPLE_BYTES"), *end;
	unsigned long long bytes = v ? strtoull(v, &end, 0) : 0;

	/* The library's own reading: strtoull base 0, 0 or garbage means the default. */
	if (!v || *end || !bytes)
		bytes = MT_SAMPLE_DEFAULT_BYTES;
	free(v);
	return bytes;
}

void sampler__print_preload_hint(uint64_t bytes)
{
	char *lib = sampler__library();

	fprintf(stderr, "memtrace: start the program with the sampling library, then attach with -p:\n"
			"  LD_PRELOAD=%s MEMTRACE_SAMPLE_BYTES=%llu PROGRAM [ARGS...]\n",
		lib ? lib : "/path/to/" MT_SAMPLE_LIB, (unsigned long long)bytes);
	free(lib);
}
