// SPDX-License-Identifier: BSD-2-Clause
/* Errors, allocation, clocks and formatting shared by every module. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

int mt_verbose;

static void vsay(const char *prefix, const char *hint, const char *fmt, va_list ap)
{
	fprintf(stderr, "memtrace: %s", prefix);
	vfprintf(stderr, fmt, ap);
	if (hint)
		fprintf(stderr, " -- %s", hint);
	fputc('\n', stderr);
}

void mt_err(const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", hint, fmt, ap);
	va_end(ap);
}

void mt_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("warning: ", NULL, fmt, ap);
	va_end(ap);
}

void mt_debug(const char *fmt, ...)
{
	va_list ap;

	if (!mt_verbose)
		return;
	va_start(ap, fmt);
	vsay("debug: ", NULL, fmt, ap);
	va_end(ap);
}

static void *check(void *p)
{
	if (!p) {
		fputs("memtrace: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xmalloc(size_t n) { return check(malloc(n ? n : 1)); }
void *xcalloc(size_t n, size_t size) { return check(calloc(n ? n : 1, size ? size : 1)); }
void *xrealloc(void *p, size_t n) { return check(realloc(p, n ? n : 1)); }
char *xstrdup(const char *s) { return check(strdup(s)); }

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return check(n < 0 ? NULL : s);
}

void xreserve(void *p, size_t *cap, size_t need, size_t elem)
{
	void **arr = p;
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return;
	while (n < need)
		n *= 2;
	*arr = xrealloc(*arr, n * elem);
	*cap = n;
}

void xgrow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t was = *cap;

	if (need <= was)	/* as it is (and *p may be NULL: no offset to take from it) */
		return;
	xreserve(p, cap, need, elem);
	memset(*(char **)p + was * elem, 0, (*cap - was) * elem);
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int mt_dir_writable(const char *dir)
{
	struct stat st;

	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return access(dir, W_OK | X_OK) ? -errno : 0;
}

uint64_t mt_now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

uint64_t mt_unix_ns(uint64_t mono_ns)
{
	uint64_t unix_now = clock_ns(CLOCK_REALTIME), mono_now = mt_now_ns();

	return mono_ns < mono_now ? unix_now - (mono_now - mono_ns) : unix_now + (mono_ns - mono_now);
}

uint64_t mt_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }
uint64_t mt_process_cpu_ns(void) { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

const char *mt_fmt_bytes(uint64_t n, char *buf)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	if (n < 1024) {
		snprintf(buf, 16, "%llu B", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 16, "%.1f %s", v, unit[u]);
	return buf;
}

uint64_t mt_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ (seed * 0x9e3779b97f4a7c15ull);

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

int mt_waitpid(int pid, int *status, int flags)
{
	int r;

	do
		r = waitpid(pid, status, flags);
	while (r < 0 && errno == EINTR);
	return r;
}
