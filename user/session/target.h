/* SPDX-License-Identifier: BSD-2-Clause */
/* Traced processes: start a command held before exec, or seize a running pid; see them exit. */
#ifndef MT_TARGET_H
#define MT_TARGET_H

#include <stdbool.h>

struct target {
	int pid;
	bool spawned;		/* we started it: we reap it and report its status */
	bool seized;		/* ptrace holds it at exit, while its mappings can still be read */
	bool exited;
	int status;		/* wait status, once exited */
	int go_fd, err_fd;	/* spawned: release pipe and exec-error pipe */
	char comm[16];
	char *exe;		/* spawned: resolved program path */
	/*
	 * Set to follow the process tree (-f): ptrace then stops the process at fork and vfork and
	 * calls this (event: PTRACE_EVENT_*, msg: the new child's pid) before letting it go on.
	 * Children are traced from their first instruction (see target__adopt).
	 */
	void (*on_event)(struct target *t, int event, unsigned long msg, void *ctx);
	void *event_ctx;
	/*
	 * Called at an exec stop, before the new program's first instruction: ptrace holds a seized
	 * process there, so what depends on the program is renewed before it runs. Adopted
	 * children inherit it.
	 */
	void (*on_exec)(struct target *t, void *ctx);
	void *exec_ctx;
	/*
	 * --leak-check: called when the process stopped itself for memtrace at _exit (a SIGSTOP the
	 * kernel sent: bpf/proc.bpf.h); true when it was that stop, which is then not delivered.
	 */
	bool (*on_stop)(struct target *t, void *ctx);
	void *stop_ctx;
	const char *family;	/* the allocator malloc belongs to ("glibc", "jemalloc", ...) */
	unsigned exec_stops;	/* exec stops seen */
	unsigned exec_events;	/* exec events the session applied for it (the ring's) */
	bool fresh;		/* adopted, not yet past its first stop */
};

/*
 * Find argv[0] as execvp would. Returns 0, or the exit status memtrace should use after
 * having said why (127 not found, 126 not executable).
 */
int target__resolve(const char *cmd, char **path);

/* Fork a child that waits, before exec, until target__exec(). */
int target__spawn(struct target *t, const char *path, char *const argv[]);
/* Let the spawned child exec; returns 0 or -errno of a failed exec. */
int target__exec(struct target *t);
/* Kill and reap a spawned child that was never released. */
void target__abort(struct target *t);

/* Check that pid exists and can be traced; fills comm. Returns 0 or -errno, having said why. */
int target__check_pid(struct target *t, int pid);
/* Ask ptrace to stop the process at its exit (best effort: fails if already traced). */
void target__seize(struct target *t);

/*
 * Collect status changes without blocking. at_exit(t, ctx) runs when a seized process stops at
 * exit, before its memory is gone; then it is let go. Returns the number still alive.
 */
int target__reap(struct target *ts, int n, void (*at_exit)(struct target *, void *), void *ctx);

/* A fork child that ptrace attached for us: held at its first stop until the next reap. */
void target__adopt(struct target *t, int pid, const struct target *parent);

/* Let go of a seized process that is still running. */
void target__detach(struct target *t);
/* Block until a spawned child ends; returns its exit status as a shell would ($?). */
int target__wait(struct target *t, volatile int *forward_signal);

#endif
