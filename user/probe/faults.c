// SPDX-License-Identifier: BSD-2-Clause
/*
 * Page-fault events for traced processes. The kernel's minor/major fault software events fire
 * after a fault is resolved and accounted, and tell which kind it was; they are opened per thread
 * with inherit, so threads and children created later are covered by the same events.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "probe/faults.h"
#include "memtrace.skel.h"
#include "probe/probe.h"
#include "lib/util.h"

/* tid's events (inherited by what it creates), or with tid -1 every task's on one cpu. */
static int open_event(int tid, int cpu, __u64 config)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = config,
		.sample_period = 1,	/* every fault */
		.inherit = tid >= 0,	/* a CPU-wide event sees every task already */
		/*
		 * Faults the kernel takes on the process's behalf (read(2) into a fresh buffer) come
		 * with kernel registers, which the stack unwinders cannot start from: left out.
		 */
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	int fd = syscall(SYS_perf_event_open, &attr, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The events of thread tid, or with tid -1 those of one cpu. */
static int attach_events(struct probe *p, int tid, int cpu)
{
	static const struct { __u64 config; const char *what; } ev[] = {
		{ PERF_COUNT_SW_PAGE_FAULTS_MIN, "minor" },
		{ PERF_COUNT_SW_PAGE_FAULTS_MAJ, "major" },
	};
	struct memtrace *skel = probe__skel(p);
	struct bpf_program *prog[] = { skel->progs.fault_minor, skel->progs.fault_major };

	for (size_t i = 0; i < 2; i++) {
		int fd = open_event(tid, cpu, ev[i].config);
		struct bpf_link *link;

		if (fd == -ESRCH || (tid < 0 && fd == -ENODEV))
			return 0;	/* the thread has exited since the listing; the cpu is offline */
		if (fd < 0) {
			mt_err(fd == -EACCES ? "run memtrace as root or lower kernel.perf_event_paranoid"
					     : "run with --no-faults to trace without page faults",
			       "failed to open %s page-fault event for %s %d: %s", ev[i].what,
			       tid < 0 ? "cpu" : "thread", tid < 0 ? cpu : tid, strerror(-fd));
			return fd;
		}
		link = bpf_program__attach_perf_event(prog[i], fd);
		if (!link) {
			int err = -errno;

			close(fd);
			mt_err("run with --no-faults to trace without page faults",
			       "failed to attach the page-fault program for %s %d: %s",
			       tid < 0 ? "cpu" : "thread", tid < 0 ? cpu : tid, strerror(-err));
			return err;
		}
		probe__keep_link(p, link);	/* the link owns the event's fd from here */
	}
	return 0;
}

static void turn_on(struct probe *p)
{
	probe__skel(p)->bss->faults_on = true;	/* page_size: set by the loader */
}

int faults__attach_all(struct probe *p)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0;

	if (ncpus < 0)
		return ncpus;
	turn_on(p);
	for (int cpu = 0; cpu < ncpus && !err; cpu++)
		err = attach_events(p, -1, cpu);
	return err;
}

int faults__attach(struct probe *p, int pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int err = 0;

	turn_on(p);
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	while (!err && (d = readdir(dir)))
		if (d->d_name[0] != '.')
			err = attach_events(p, atoi(d->d_name), -1);
	closedir(dir);
	return err;
}
