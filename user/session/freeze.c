// SPDX-License-Identifier: BSD-2-Clause
/*
 * Every thread of a process stopped for a moment, its registers read, then let go as it was.
 * Threads are seized one by one; one that starts meanwhile is found by listing them again, so
 * the loop ends once a listing brings no new thread (stopped threads start none).
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "session/freeze.h"

static struct freeze_thread *add(struct freeze *f, int tid)
{
	struct freeze_thread *t;

	xgrow(&f->t, &f->cap, f->n + 1, sizeof(*f->t));
	t = &f->t[f->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return t;
}

/* The general-purpose registers memcheck scans, and the stack pointer. */
static int read_regs(struct freeze_thread *t)
{
	struct user_regs_struct r;
	struct iovec io = { &r, sizeof(r) };

	if (ptrace(PTRACE_GETREGSET, t->tid, NT_PRSTATUS, &io))
		return -errno;
#if defined(__x86_64__)
	{
		uint64_t gp[] = { r.rax, r.rcx, r.rdx, r.rbx, r.rsi, r.rdi, r.rsp, r.rbp,
				  r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15 };

		memcpy(t->regs, gp, sizeof(gp));
		t->nregs = sizeof(gp) / sizeof(gp[0]);
		t->sp = r.rsp;
	}
#elif defined(__aarch64__)
	memcpy(t->regs, r.regs, sizeof(r.regs));
	t->regs[31] = r.sp;
	t->nregs = 32;
	t->sp = r.sp;
#else
#error "freeze.c: which registers to scan on this architecture?"
#endif
	return 0;
}

/*
 * Wait until the thread is in a ptrace stop, at most until deadline. A signal it stopped to
 * receive is kept, to give back. Returns 0, -ESRCH when it ended, -ETIMEDOUT.
 */
static int wait_stop(struct freeze_thread *t, uint64_t deadline)
{
	for (;;) {
		int st;
		pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == t->tid && (WIFEXITED(st) || WIFSIGNALED(st))))
			return -ESRCH;
		if (r == t->tid && WIFSTOPPED(st)) {
			if (st >> 16 == PTRACE_EVENT_EXEC)
				return -ENOEXEC;	/* a new program: the blocks are not its */
			t->sig = st >> 16 ? 0 : WSTOPSIG(st);	/* 0 for our stop, a group stop, an exit */
			t->stopped = true;
			return 0;
		}
		if (mt_now_ns() > deadline)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){ 0, 200000 }, NULL);
	}
}

bool freeze__killed(const struct freeze *f)
{
	unsigned long long pending = 0, shared = 0;
	char path[64], line[128], state = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", f->pid);
	fp = fopen(path, "re");
	if (!fp)
		return true;
	while (fgets(line, sizeof(line), fp)) {
		sscanf(line, "State: %c", &state);
		sscanf(line, "SigPnd: %llx", &pending);
		sscanf(line, "ShdPnd: %llx", &shared);
	}
	fclose(fp);
	return state == 'Z' || state == 'X' || ((pending | shared) & (1ull << (SIGKILL - 1)));
}

void freeze__tracer(int tid, char *buf, size_t len)
{
	char path[64], line[128];
	int tracer = 0;
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f) && sscanf(line, "TracerPid: %d", &tracer) != 1)
		;
	if (f)
		fclose(f);
	if (tracer <= 0 || tracer == getpid())
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", tracer);
	f = fopen(path, "re");
	if (!f || !fgets(line, sizeof(line), f))
		snprintf(line, sizeof(line), "?");
	if (f)
		fclose(f);
	line[strcspn(line, "\n")] = 0;
	snprintf(buf, len, "%.15s, pid %d", line, tracer);	/* a comm has at most 15 characters */
}

static bool met(const struct freeze *f, int tid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->t[i].tid == tid)
			return true;
	for (size_t i = 0; i < f->ngone; i++)
		if (f->gone_tids[i] == tid)
			return true;
	return false;
}

static void gone(struct freeze *f, int tid)
{
	xgrow(&f->gone_tids, &f->cap_gone, f->ngone + 1, sizeof(*f->gone_tids));
	f->gone_tids[f->ngone++] = tid;
}

/*
 * Seize and interrupt one thread not met before: 1, 0 when it is gone or on its way out (nothing
 * to stop), -EPERM when another tracer holds it.
 */
static int seize(struct freeze *f, int tid)
{
	char who[96];

	if (!ptrace(PTRACE_SEIZE, tid, 0, 0)) {
		add(f, tid)->ours = true;
		ptrace(PTRACE_INTERRUPT, tid, 0, 0);
		return 1;
	}
	freeze__tracer(tid, who, sizeof(who));
	if (errno != EPERM || !who[0]) {
		gone(f, tid);
		return 0;
	}
	snprintf(f->why, sizeof(f->why), "thread %d of pid %d is held by another tracer (%s): "
		 "detach it, then run memtrace again", tid, f->pid, who);
	return -EPERM;
}

/* Seize the threads not met before; how many were new, or -errno. */
static int seize_new(struct freeze *f)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int added = 0, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", f->pid);
	dir = opendir(path);
	if (!dir) {
		snprintf(f->why, sizeof(f->why), "pid %d ended", f->pid);
		return -ESRCH;
	}
	while (!err && (d = readdir(dir))) {
		int tid = atoi(d->d_name), rc;

		if (tid <= 0 || met(f, tid))
			continue;
		rc = seize(f, tid);
		err = rc < 0 ? rc : 0;
		added += rc > 0;
	}
	closedir(dir);
	return err ? err : added;
}

/* Wait for every thread seized so far; one that ended is dropped. */
static int wait_all(struct freeze *f, uint64_t deadline)
{
	for (size_t i = 0; i < f->n; i++) {
		struct freeze_thread *t = &f->t[i];
		int err = t->stopped ? 0 : wait_stop(t, deadline);

		if (err == -ESRCH && t->tid != f->pid) {
			gone(f, t->tid);
			*t = f->t[--f->n];	/* ended on its own: nothing of it to read */
			i--;
		} else if (err == -ETIMEDOUT) {
			snprintf(f->why, sizeof(f->why), "thread %d of pid %d did not stop in time (in an "
				 "uninterruptible sleep? see State in /proc/%d/task/%d/status)", t->tid,
				 f->pid, f->pid, t->tid);
			return err;
		} else if (err) {
			snprintf(f->why, sizeof(f->why), "pid %d %s during the leak check", f->pid,
				 err == -ENOEXEC ? "ran a new program" : "ended");
			return err;
		}
	}
	return 0;
}

static int stop_all(struct freeze *f, enum freeze_leader leader, int timeout_ms)
{
	uint64_t deadline = mt_now_ns() + (uint64_t)timeout_ms * 1000000;
	struct freeze_thread *l = add(f, f->pid);
	int err = 0, added = 1;

	l->stopped = leader == FREEZE_LEADER_HELD;
	if (!l->stopped && ptrace(PTRACE_INTERRUPT, f->pid, 0, 0)) {
		snprintf(f->why, sizeof(f->why), "pid %d cannot be stopped: %s", f->pid, strerror(errno));
		return -errno;
	}
	while (!err && added > 0) {
		err = wait_all(f, deadline);
		added = err ? 0 : seize_new(f);
		err = added < 0 ? added : err;
	}
	for (size_t i = 0; !err && i < f->n; i++) {
		err = read_regs(&f->t[i]);
		if (err)
			snprintf(f->why, sizeof(f->why), "cannot read the registers of thread %d of pid %d: %s",
				 f->t[i].tid, f->pid, strerror(-err));
	}
	return err;
}

int freeze__stop(struct freeze *f, int pid, enum freeze_leader leader, int timeout_ms)
{
	int err;

	memset(f, 0, sizeof(*f));
	f->pid = pid;
	f->stop_ns = mt_now_ns();
	f->leader_running = leader == FREEZE_LEADER_RUNNING;
	err = stop_all(f, leader, timeout_ms);
	if (err)
		freeze__thaw(f);
	return err;
}

void freeze__thaw(struct freeze *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct freeze_thread *t = &f->t[i];

		/* One that would not stop gets a last chance; else it stays ours until memtrace exits,
		 * when the kernel lets it go. */
		if (!t->stopped && t->ours && wait_stop(t, mt_now_ns() + 200000000ull) == -ETIMEDOUT)
			mt_warn("thread %d of pid %d stays stopped until memtrace exits", t->tid, f->pid);
		if (!t->stopped || (t->tid == f->pid && !f->leader_running))
			continue;
		if (t->ours)
			ptrace(PTRACE_DETACH, t->tid, 0, t->sig);
		else
			ptrace(PTRACE_CONT, t->tid, 0, t->sig);
		t->stopped = false;
	}
	free(f->t);
	free(f->gone_tids);
	f->t = NULL;
	f->gone_tids = NULL;
	f->n = f->cap = f->ngone = f->cap_gone = 0;
}
