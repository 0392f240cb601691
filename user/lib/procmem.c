// SPDX-License-Identifier: BSD-2-Clause
/* Reading another process's memory with process_vm_readv, and its initial environment. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/procmem.h"
#include "lib/util.h"

int procmem__read(int pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

long procmem__read_some(int pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = len ? process_vm_readv(pid, &local, 1, &remote, 1, 0) : 0;

	return n < 0 ? -errno : (long)n;
}

int procmem__read_ranges(int pid, const struct procmem_range *r, size_t n, void *buf)
{
	struct iovec local[IOV_MAX], remote[IOV_MAX];
	uint8_t *p = buf;

	for (size_t i = 0; i < n;) {
		size_t k = 0, want = 0;
		ssize_t got;

		for (; i < n && k < IOV_MAX; i++, k++) {
			size_t len = r[i].end - r[i].start;

			local[k] = (struct iovec){ p + want, len };
			remote[k] = (struct iovec){ (void *)(uintptr_t)r[i].start, len };
			want += len;
		}
		got = process_vm_readv(pid, local, k, remote, k, 0);
		if (got < 0)
			return -errno;
		if ((size_t)got != want)
			return -EFAULT;
		p += want;
	}
	return 0;
}

/* Read up to size - 1 bytes of /proc/PID/<name> into buf, NUL-terminated; the count, or -1. */
static ssize_t read_proc_file(int pid, const char *name, char *buf, size_t size)
{
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	return (ssize_t)n;
}

char *procmem__env(int pid, const char *name)
{
	char buf[65536];
	size_t len = strlen(name);
	ssize_t n = read_proc_file(pid, "environ", buf, sizeof(buf));

	for (char *s = buf; s < buf + n; s += strlen(s) + 1)
		if (!strncmp(s, name, len) && s[len] == '=')
			return xstrdup(s + len + 1);
	return NULL;
}

char *procmem__join_args(const char *args, size_t n)
{
	char *s;

	if (!n)
		return NULL;
	s = xmalloc(n + 1);
	memcpy(s, args, n);
	s[n] = 0;
	for (size_t i = 0; i + 1 < n; i++)	/* arguments end in NUL: join them */
		s[i] = s[i] ? s[i] : ' ';
	return s;
}

char *procmem__cmdline(int pid)
{
	char buf[4096];
	ssize_t n = read_proc_file(pid, "cmdline", buf, sizeof(buf));

	return n > 0 ? procmem__join_args(buf, (size_t)n) : NULL;
}

char *procmem__exe(int pid)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = 0;
	return xstrdup(path);
}
