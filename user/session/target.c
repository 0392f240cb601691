// SPDX-License-Identifier: BSD-2-Clause
/* Traced processes: start a command held before exec, or seize a running pid; see them exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session/target.h"
#include "lib/util.h"

static void read_comm(struct target *t)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", t->pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(t->comm, sizeof(t->comm), f))
			t->comm[strcspn(t->comm, "\n")] = 0;
		fclose(f);
	}
}

static int check_exec(const char *cmd, const char *path, char **out)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	if (S_ISDIR(st.st_mode) || access(path, X_OK)) {
		mt_err("check the file's permissions", "cannot execute '%s': %s", cmd,
		       S_ISDIR(st.st_mode) ? "it is a directory" : "permission denied");
		return MT_EXIT_NOEXEC;
	}
	*out = xstrdup(path);
	return 0;
}

int target__resolve(const char *cmd, char **path)
{
	const char *env = getenv("PATH");
	char *dirs, *dir, *save = NULL;
	int rc = -1;

	if (strchr(cmd, '/'))
		rc = check_exec(cmd, cmd, path);
	else {
		dirs = xstrdup(env ? env : "/usr/local/bin:/usr/bin:/bin");
		for (dir = strtok_r(dirs, ":", &save); dir && rc < 0; dir = strtok_r(NULL, ":", &save)) {
			char *cand = xasprintf("%s/%s", *dir ? dir : ".", cmd);

			rc = check_exec(cmd, cand, path);
			free(cand);
		}
		free(dirs);
	}
	if (rc < 0) {
		mt_err("check the spelling, or give a path", "command not found: %s", cmd);
		return MT_EXIT_NOTFOUND;
	}
	return rc;
}

static void child_run(int go, int err, const char *path, char *const argv[])
{
	char c;
	int e;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (read(go, &c, 1) != 1)	/* memtrace gave up before the probes were in place */
		_exit(MT_EXIT_FAIL);
	close(go);
	execv(path, argv);
	e = errno;
	if (write(err, &e, sizeof(e)) < 0)
		_exit(MT_EXIT_NOTFOUND);
	_exit(e == ENOENT ? MT_EXIT_NOTFOUND : MT_EXIT_NOEXEC);
}

int target__spawn(struct target *t, const char *path, char *const argv[])
{
	int go[2], err[2];

	memset(t, 0, sizeof(*t));
	if (pipe2(go, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		mt_err(NULL, "failed to create pipe: %s", strerror(errno));
		return -errno;
	}
	t->pid = fork();
	if (t->pid < 0) {
		mt_err(NULL, "failed to fork: %s", strerror(errno));
		return -errno;
	}
	if (t->pid == 0) {
		close(go[1]);
		close(err[0]);
		child_run(go[0], err[1], path, argv);
	}
	close(go[0]);
	close(err[1]);
	t->go_fd = go[1];
	t->err_fd = err[0];
	t->spawned = true;
	t->exe = xstrdup(path);
	snprintf(t->comm, sizeof(t->comm), "%s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	return 0;
}

int target__exec(struct target *t)
{
	int e = 0;
	ssize_t n;

	if (write(t->go_fd, "g", 1) != 1)
		return -EPIPE;
	close(t->go_fd);
	t->go_fd = -1;
	do
		n = read(t->err_fd, &e, sizeof(e));	/* EOF: exec closed the pipe, it worked */
	while (n < 0 && errno == EINTR);
	close(t->err_fd);
	t->err_fd = -1;
	return n == sizeof(e) ? -e : 0;
}

void target__abort(struct target *t)
{
	if (!t->spawned || t->exited)
		return;
	if (t->go_fd >= 0)
		close(t->go_fd);
	kill(t->pid, SIGKILL);
	mt_waitpid(t->pid, &t->status, __WALL);
	t->exited = true;
}

int target__check_pid(struct target *t, int pid)
{
	char path[64];

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->go_fd = t->err_fd = -1;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (pid <= 0 || (kill(pid, 0) && errno == ESRCH)) {
		mt_err("check the pid with ps or pgrep", "no such process: %d", pid);
		return -ESRCH;
	}
	if (access(path, R_OK)) {
		mt_err("run memtrace as root", "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	read_comm(t);
	return 0;
}

void target__seize(struct target *t)
{
	long opts = PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC;

	if (t->on_event)
		opts |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
	if (ptrace(PTRACE_SEIZE, t->pid, 0, opts) == 0)
		t->seized = true;
	else
		mt_debug("cannot hold pid %d at exit (%s); a stack of it may stay unresolved if it "
			 "exits before memtrace reads its mappings", t->pid, strerror(errno));
}

void target__adopt(struct target *t, int pid, const struct target *parent)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->go_fd = t->err_fd = -1;
	t->seized = true;	/* ptrace attached it with its parent's options */
	t->fresh = true;
	t->on_event = parent->on_event;
	t->event_ctx = parent->event_ctx;
	t->on_exec = parent->on_exec;
	t->exec_ctx = parent->exec_ctx;
	read_comm(t);
}

/* An exec, or a fork or vfork of a followed process: tell the session, then let it go on. */
static bool tracee_event(struct target *t, int status)
{
	int event = status >> 16;
	unsigned long msg = 0;

	if (event != PTRACE_EVENT_FORK && event != PTRACE_EVENT_VFORK && event != PTRACE_EVENT_EXEC)
		return false;
	ptrace(PTRACE_GETEVENTMSG, t->pid, 0, &msg);
	if (event == PTRACE_EVENT_EXEC) {
		read_comm(t);
		t->exec_stops++;
		if (t->on_exec)
			t->on_exec(t, t->exec_ctx);
	} else if (t->on_event) {
		t->on_event(t, event, msg, t->event_ctx);
	}
	ptrace(PTRACE_CONT, t->pid, 0, 0);
	return true;
}

/* A signal the kernel sent itself (a BPF program's), not one a process sent with kill. */
static bool sent_by_kernel(int pid)
{
	siginfo_t si;

	return !ptrace(PTRACE_GETSIGINFO, pid, 0, &si) && si.si_code == SI_KERNEL;
}

/* A ptrace stop that is not the exit stop: let it go, giving back the signal it was about. */
static void resume(struct target *t, int status)
{
	int pid = t->pid, sig = WSTOPSIG(status), event = status >> 16;

	if (!event && sig == SIGSTOP && t->on_stop && sent_by_kernel(pid) && t->on_stop(t, t->stop_ctx))
		sig = 0;	/* memtrace's own stop: the process never sees it */

	if (t->fresh && (event == PTRACE_EVENT_STOP || sig == SIGSTOP)) {
		t->fresh = false;	/* an adopted child's first stop: its probes are in, run it */
		ptrace(PTRACE_CONT, pid, 0, 0);
	} else if (tracee_event(t, status)) {
		return;
	} else if (event == PTRACE_EVENT_STOP) {	/* group stop (SIGSTOP etc.) or an interrupt */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, pid, 0, 0);
		else
			ptrace(PTRACE_CONT, pid, 0, 0);
	} else {
		ptrace(PTRACE_CONT, pid, 0, event ? 0 : sig);
	}
}

int target__reap(struct target *ts, int n, void (*at_exit)(struct target *, void *), void *ctx)
{
	int alive = 0;

	for (int i = 0; i < n; i++) {
		struct target *t = &ts[i];
		int st;
		pid_t r;

		while (!t->exited && (t->spawned || t->seized) &&
		       (r = waitpid(t->pid, &st, __WALL | WNOHANG)) == t->pid) {
			if (WIFEXITED(st) || WIFSIGNALED(st)) {
				t->exited = true;
				t->status = st;
			} else if (WIFSTOPPED(st) && st >> 8 == (SIGTRAP | PTRACE_EVENT_EXIT << 8)) {
				if (at_exit)
					at_exit(t, ctx);
				ptrace(PTRACE_CONT, t->pid, 0, 0);
			} else if (WIFSTOPPED(st)) {
				resume(t, st);
			}
		}
		/* Neither our child nor held by ptrace: all we can do is look. */
		if (!t->exited && !t->spawned && !t->seized && kill(t->pid, 0) && errno == ESRCH)
			t->exited = true;
		alive += !t->exited;
	}
	return alive;
}

void target__detach(struct target *t)
{
	int st, sig = 0;

	if (!t->seized || t->exited)
		return;
	if (ptrace(PTRACE_INTERRUPT, t->pid, 0, 0))
		return;
	/* An EINTR here used to end the loop with the tracee still held: detach failed, and the
	 * wait for the command then hung on a stopped process (seen in live_tmux under load). */
	while (mt_waitpid(t->pid, &st, __WALL) == t->pid) {
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			t->exited = true;
			t->status = st;
			return;
		}
		if (WIFSTOPPED(st) && st >> 16 == 0)	/* a signal on its way: deliver it after */
			sig = WSTOPSIG(st);
		if (WIFSTOPPED(st) && st >> 16 != PTRACE_EVENT_STOP) {
			ptrace(PTRACE_CONT, t->pid, 0, sig);
			sig = 0;
			continue;
		}
		break;
	}
	ptrace(PTRACE_DETACH, t->pid, 0, sig);
	t->seized = false;
}

int target__wait(struct target *t, volatile int *forward_signal)
{
	while (!t->exited) {
		int st;
		pid_t r = waitpid(t->pid, &st, __WALL);

		if (r < 0 && errno == EINTR) {
			if (*forward_signal)
				kill(t->pid, *forward_signal);
			*forward_signal = 0;
			continue;
		}
		if (r < 0)
			break;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			t->exited = true;
			t->status = st;
		} else if (WIFSTOPPED(st)) {	/* still ours (detach failed): never leave it stopped */
			ptrace(PTRACE_CONT, t->pid, 0, st >> 16 ? 0 : WSTOPSIG(st));
		}
	}
	if (WIFSIGNALED(t->status))
		return 128 + WTERMSIG(t->status);
	return WEXITSTATUS(t->status);
}
