// SPDX-License-Identifier: BSD-2-Clause
/* Periodic pprof profiles into a directory, each file complete the moment it appears. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "present/pprof.h"
#include "session/pprof_dir.h"
#include "lib/util.h"

struct pprof_dir {
	char *dir;
	uint64_t every_ns, next_ns;
};

int pprof_dir__open(struct pprof_dir **out, const char *dir, double every_s)
{
	struct pprof_dir *pd;
	int rc = mt_dir_writable(dir);

	if (rc) {
		mt_err("create it first, or give a writable directory",
		       "failed to use --pprof-dir %s: %s", dir, strerror(-rc));
		return rc;
	}
	pd = xcalloc(1, sizeof(*pd));
	pd->dir = xstrdup(dir);
	pd->every_ns = every_s * 1e9;
	pd->next_ns = mt_now_ns() + pd->every_ns;
	*out = pd;
	return 0;
}

bool pprof_dir__due(const struct pprof_dir *pd)
{
	return pd && mt_now_ns() >= pd->next_ns;
}

/* 20250102T030405.678Z: sorts by time, and milliseconds keep a last profile from colliding. */
static void utc_stamp(uint64_t unix_ns, char *buf, size_t size)
{
	time_t sec = unix_ns / 1000000000ull;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, size, "%Y%m%dT%H%M%S", &tm);
	snprintf(buf + n, size - n, ".%03uZ", (unsigned)(unix_ns % 1000000000ull / 1000000));
}

/*
 * DIR/<name>-<UTC time>.pb.gz, through a hidden temporary file; its path, or NULL (said). The
 * time, in the name and in the profile's time_nanos, is the snapshot's: symbolizing a first
 * snapshot can take long enough that the moment of writing says less than the moment seen.
 */
static char *write_named(struct pprof_dir *pd, const struct mt_snapshot *s, const char *name)
{
	struct pprof_opts o = { .time_ns = mt_unix_ns(s->now_ns) };
	char stamp[40];
	char *path, *tmp;
	FILE *f;
	int rc;

	utc_stamp(o.time_ns, stamp, sizeof(stamp));
	path = xasprintf("%s/%s-%s.pb.gz", pd->dir, name, stamp);
	tmp = xasprintf("%s/.%s-%s.pb.gz.tmp", pd->dir, name, stamp);
	f = fopen(tmp, "wbe");
	rc = f ? pprof__fwrite(s, &o, f) : -errno;
	if (f && fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		mt_err(NULL, "failed to write %s: %s", path, strerror(-rc));
		unlink(tmp);
		free(path);
		path = NULL;
	}
	free(tmp);
	return path;
}

int pprof_dir__write(struct pprof_dir *pd, const struct mt_snapshot *s, uint32_t pid)
{
	char name[32];
	char *path;
	int rc;

	pd->next_ns = mt_now_ns() + pd->every_ns;
	if (pid)
		snprintf(name, sizeof(name), "memtrace-%u", pid);
	else
		snprintf(name, sizeof(name), "memtrace-all");
	path = write_named(pd, s, name);
	rc = path ? 0 : -EIO;
	free(path);
	return rc;
}

char *pprof_dir__write_oom(struct pprof_dir *pd, const struct mt_snapshot *s, uint32_t pid)
{
	char name[32];

	snprintf(name, sizeof(name), "oom-%u", pid);
	return write_named(pd, s, name);
}

void pprof_dir__free(struct pprof_dir *pd)
{
	if (!pd)
		return;
	free(pd->dir);
	free(pd);
}
