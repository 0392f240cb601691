// SPDX-License-Identifier: BSD-2-Clause
/*
 * The kernel frees each uprobe after an RCU grace period, one after the other (about 55 ms
 * apiece on a virtualized 6.18): some 20 probes held every memtrace a second at its end. A child
 * that holds the links while memtrace closes its own copies lets memtrace end at once; the kernel
 * frees the probes when that child exits, after memtrace, and nobody waits for it.
 *
 * Freeing a uprobe takes the mmap lock, for writing, of every process that maps the probed
 * library, libc included. A traced process's page faults then retry (the kernel counts a retried
 * fault as major) and the unwinder cannot look its mappings up (bpf_find_vma only tries the lock).
 * So the next memtrace waits for earlier children before its probes go in: each child holds a
 * shared flock on one file, and release__wait takes it exclusively.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/util.h"
#include "probe/release.h"

#define LOCK_FILE "/run/memtrace-detach.lock"
#define WAIT_MS 30000

static int lock_open(void)
{
	return open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* In the child: every fd closed but keep[0..n) (sorted), with async-signal-safe calls only. */
static void close_all_but(const int *keep, size_t n)
{
	unsigned int from = 0;

	for (size_t i = 0; i <= n; i++) {
		unsigned int to = i < n ? (unsigned int)keep[i] : ~0U;

		if (to > from)
			close_range(from, i < n ? to - 1 : to, 0);
		from = to + 1;
	}
}

/* The child: keeps keep[], waits for EOF on gone (memtrace has ended), exits: the kernel frees. */
static void child(const int *keep, size_t n, int gone)
{
	char c;

	close_all_but(keep, n);
	setsid();
	prctl(PR_SET_NAME, "memtrace-detach");
	while (read(gone, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

int release__hand_over(const int *fds, size_t n)
{
	int *keep = xcalloc(n + 2, sizeof(*keep)), gone[2], lock = lock_open(), err = 0;
	pid_t pid;

	if (pipe2(gone, O_CLOEXEC)) {
		err = -errno;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		keep[i] = fds[i];
	keep[n++] = gone[0];
	if (lock >= 0 && !flock(lock, LOCK_SH))	/* the child's copy holds it until it exits */
		keep[n++] = lock;
	qsort(keep, n, sizeof(*keep), cmp_int);
	pid = fork();
	if (pid == 0)
		child(keep, n, gone[0]);
	if (pid < 0)
		err = -errno;
	close(gone[0]);	/* gone[1] stays open until memtrace ends */
	if (err)
		close(gone[1]);
out:
	if (lock >= 0)
		close(lock);
	free(keep);
	return err;
}

void release__wait(void)
{
	int lock = lock_open();
	uint64_t t0 = mt_now_ns();

	if (lock < 0)
		return;
	while (flock(lock, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK)
			break;
		if (mt_now_ns() - t0 >= WAIT_MS * 1000000ull) {
			mt_warn("an earlier memtrace's probes are still being freed after %d s; "
				"tracing anyway (a traced process may see retried faults)",
				WAIT_MS / 1000);
			break;
		}
		usleep(20000);
	}
	if (mt_now_ns() - t0 >= 20000000ull)
		mt_debug("waited %.1f s for an earlier memtrace's probes to be freed",
			 (mt_now_ns() - t0) / 1e9);
	close(lock);	/* the lock, if taken, goes with it */
}
