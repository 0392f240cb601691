// SPDX-License-Identifier: BSD-2-Clause
/*
 * When a process is looked at for CPython (user/symbolize/pytrace.c): at its first event from
 * the allocator's probes, never at a page fault that comes before. Debian's python3 is started
 * under ptrace and held at its exec, where only the program and the dynamic loader are mapped
 * (a page fault can be sent from there on): a fault event then leaves the process unjudged, and
 * once the loader has mapped libc an allocation's event finds CPython with its frames readable.
 * Judged at the fault, the process was "unavailable" for good ("another C library"): what made
 * reach_exec and python_gc lose their Python lines whenever the session read the new program's
 * first events early. Needs root (the BPF map of Python processes) and /usr/bin/python3.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/procmaps.h"
#include "symbolize/pytrace.h"
#include "tap.h"

#define PYTHON "/usr/bin/python3"

/* A child running PYTHON, held at its exec (before the loader has run); 0 when that fails. */
static pid_t start_held(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execl(PYTHON, PYTHON, "-c", "import time; time.sleep(30)", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return 0;
	return pid;
}

static bool maps_libc(pid_t pid)
{
	struct procmaps pm;
	bool found = false;

	if (procmaps__read(pid, &pm))
		return false;
	for (size_t i = 0; i < pm.n; i++)
		if (pm.maps[i].path && strstr(pm.maps[i].path, "/libc.so"))
			found = true;
	procmaps__release(&pm);
	return found;
}

static bool wait_for_libc(pid_t pid)
{
	for (int i = 0; i < 5000; i++) {
		if (maps_libc(pid))
			return true;
		usleep(1000);
	}
	return false;
}

static void check(int map_fd)
{
	bool python_on = false;
	struct procs *procs = procs__new();
	struct pytrace *py = pytrace__new(MT_PY_MIXED, map_fd, &python_on, procs);
	struct mt_event fault = { .op = MT_OP_FAULT }, alloc = { .op = MT_OP_MALLOC, .size = 64 };
	const struct mt_py_info *info;
	pid_t pid = start_held();

	if (!ok(pid > 0, "%s held at its exec", PYTHON))
		goto out;
	ok(!maps_libc(pid), "held there, it maps no libc yet");
	fault.pid = alloc.pid = pid;
	pytrace__event(py, &fault);
	ok(!pytrace__info(py, pid), "a page fault's event leaves it unjudged");
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	if (!ok(wait_for_libc(pid), "let go, the loader maps libc"))
		goto out;
	pytrace__event(py, &alloc);
	info = pytrace__info(py, pid);
	ok(info, "an allocation's event finds CPython");
	is_str(info ? info->frames : NULL, "mixed", "its frames are walked (%s)",
	       info && info->why ? info->why : "no reason given");
	ok(python_on, "and the BPF walk is told");
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	procs__free(procs);
	pytrace__free(py);
}

int main(void)
{
	int map_fd;

	if (geteuid() != 0) {
		skip("needs root: the BPF map of Python processes");
		return done_testing();
	}
	if (access(PYTHON, X_OK) ||
	    system(PYTHON " -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))'")) {
		skip("no %s of CPython 3.11-3.13, whose frames memtrace reads", PYTHON);
		return done_testing();
	}
	map_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "py_procs", 4, sizeof(struct mt_py_proc), 16, NULL);
	if (!ok(map_fd >= 0, "the map of Python processes (%s)", strerror(errno)))
		return done_testing();
	check(map_fd);
	close(map_fd);
	return done_testing();
}
