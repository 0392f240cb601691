/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Every thread of a process stopped for a moment and its registers read, then let go as it was
 * (--leak-check). PTRACE_SEIZE and PTRACE_INTERRUPT send no signal, and a system call in
 * progress is restarted: the process cannot tell, except by the time it lost.
 */
#ifndef MT_FREEZE_H
#define MT_FREEZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The general-purpose registers memcheck scans (amd64: rax..r15, rsp and rbp included). */
#define FREEZE_REGS 32

struct freeze_thread {
	int tid;
	bool ours;		/* seized here: detached when let go (the leader stays the target's) */
	bool stopped;
	int sig;		/* a signal it stopped to receive: delivered when it is let go */
	uint64_t regs[FREEZE_REGS];
	uint32_t nregs;
	uint64_t sp;
};

struct freeze {
	int pid;
	struct freeze_thread *t;
	size_t n, cap;
	bool leader_running;	/* the leader was interrupted here: let go here too */
	uint64_t stop_ns;	/* when the first thread was stopped */
	int *gone_tids;		/* threads met that ended (or were ending) before they could stop */
	size_t ngone, cap_gone;
	char why[224];		/* why it failed */
};

/* How the leader is when the freeze begins: ptrace (the target) holds it either way. */
enum freeze_leader {
	FREEZE_LEADER_HELD,	/* already in one of our ptrace stops: it stays there */
	FREEZE_LEADER_RUNNING,	/* seized and running: interrupted here, let go after */
};

/*
 * Stop every thread of pid, threads it starts meanwhile included, within timeout_ms. Returns 0,
 * or -errno with why filled and every thread let go: -EPERM a thread another tracer holds,
 * -ETIMEDOUT one that would not stop (uninterruptible sleep), -ESRCH the process ended.
 */
int freeze__stop(struct freeze *f, int pid, enum freeze_leader leader, int timeout_ms);

/* "gdb, pid 99": who else traces tid, for messages; "" when nobody else does. */
void freeze__tracer(int tid, char *buf, size_t len);

/*
 * Whether f's process was killed while stopped (a SIGKILL pending or acted on, or gone): what was
 * read of it may be its memory as it was torn down.
 */
bool freeze__killed(const struct freeze *f);

/* Let every stopped thread go on (a held leader stays held: its holder lets it go). */
void freeze__thaw(struct freeze *f);

#endif
