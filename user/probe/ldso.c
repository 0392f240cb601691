// SPDX-License-Identifier: BSD-2-Clause
/*
 * `ld.so --list`, read whole. memtrace takes SIGCHLD (a traced process stopping sends it), so
 * every read here retries on EINTR: a list cut short would leave objects unplanned and their
 * first frames without an unwind table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe/ldso.h"
#include "lib/util.h"

extern char **environ;

/* The loader's whole output, NUL-terminated, malloc'd. */
static char *read_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t n;

	for (;;) {
		if (len + 1 == cap)
			buf = xrealloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	return buf;
}

/* One line: "\tname => /path (0x...)" or "\t/path (0x...)"; NULL for linux-vdso, "not found". */
static char *listed_path(char *line)
{
	char *arrow = strstr(line, "=> "), *p = arrow ? arrow + 3 : line + strspn(line, " \t");

	if (*p != '/')
		return NULL;
	p[strcspn(p, " \t")] = 0;
	return p;
}

int ldso__list(const char *interp, const char *exe, char *const envp[],
	       void (*each)(const char *path, void *ctx), void *ctx)
{
	char *argv[] = { (char *)interp, "--list", (char *)exe, NULL };
	char *out, *line, *save = NULL;
	int fds[2];
	pid_t child;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execve(interp, argv, envp ? envp : environ);
		_exit(127);
	}
	close(fds[1]);
	out = read_all(fds[0]);
	close(fds[0]);
	mt_waitpid(child, NULL, 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *path = listed_path(line);

		if (path)
			each(path, ctx);
	}
	free(out);
	return 0;
}
