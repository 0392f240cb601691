// SPDX-License-Identifier: BSD-2-Clause
/*
 * A tracing session. Order matters: the command is forked and held before exec, the probes are
 * attached for its pid, and only then may it run, so no allocation escapes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "model/model.h"
#include "probe/allocator.h"
#include "probe/faults.h"
#include "probe/kfeat.h"
#include "present/live.h"
#include "session/metrics_http.h"
#include "session/output.h"
#include "session/pprof_dir.h"
#include "probe/probe.h"
#include "lib/procmem.h"
#include "record/recorder.h"
#include "symbolize/pytrace.h"
#include "model/resident.h"
#include "probe/sampler.h"
#include "model/series.h"
#include "symbolize/snapshot_build.h"
#include "symbolize/symbolize.h"
#include "session/labels.h"
#include "session/machine.h"
#include "session/oom_kill.h"
#include "session/target.h"
#include "session/faultkind.h"
#include "session/follow.h"
#include "session/freeze.h"
#include "session/leakscan.h"
#include "session/trace.h"
#include "probe/unwind.h"
#include "lib/util.h"

/* -- CMD: what was found and planned before the probes were loaded. */
struct command {
	char *exe;			/* the file it runs */
	char *lib;			/* --sample: the library preloaded in it */
	struct alloc_plan plan;		/* otherwise: the allocators to probe in it */
};

struct session {
	const struct env *env;
	struct command cmd;
	struct probe *probe;
	struct ring_buffer *rb;
	struct model *m;		/* what the trace saw: processes, blocks, faults, memory over time */
	struct symbolizer *sym;
	struct recorder *rec;		/* memtrace record; NULL otherwise */
	struct live *live;		/* NULL unless the live view is on */
	struct unwinder *unw;
	struct metrics_server *metrics;	/* --metrics, else NULL */
	struct pprof_dir *pdir;		/* --pprof-dir, else NULL */
	struct pytrace *py;
	struct faultkind *fk;		/* faults whose mapping BPF could not look up */
	struct mt_event *scratch;	/* such a fault, completed */
	struct target *targets;		/* -p pids or the command, then followed children (-f) */
	int ntargets;
	size_t cap_targets;
	struct tree *tree;		/* -f */
	struct system *system;		/* -a */
	bool faults;			/* page faults traced: asked for, and the kernel took them */
	uint64_t drain_until_ns;	/* -a: reading what is left, until then */
	uint64_t starting_until_ns;	/* a program just started: its events are read promptly */
	uint64_t start_ns;
	uint64_t events, bad_events;
	uint64_t read;			/* records read from the ring (-a: when to look at the clock) */
	uint64_t loop_ns, loop_cpu_ns;	/* the trace itself, from start_ns to the poll loop's end:
					 * wall time, memtrace's CPU (all threads) */
	bool leak_failed;		/* a --leak-check asked for could not be done */
	uint32_t oom_pids[16];		/* OOM victims not yet said and saved */
	int noom;
};

static volatile sig_atomic_t stop_signal;
static volatile int forward_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
	forward_signal = sig;
}

static void on_child(int sig) { (void)sig; }	/* only to wake the poll loop */

/*
 * SIGCHLD comes at every stop of a traced process. It wakes the poll loop (epoll_wait is never
 * restarted) and restarts every other call it lands in, such as a read of a library list.
 */
static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
}

/*
 * -a: when to stop reading a ring buffer that never runs dry. While tracing: when the trace
 * should end. At the end: after a grace period for what was sent before the end.
 */
static bool flood_stop_due(const struct session *s)
{
	uint64_t now = mt_now_ns();

	if (s->drain_until_ns)
		return now > s->drain_until_ns;
	return stop_signal || (s->env->duration > 0 && now - s->start_ns >= s->env->duration * 1e9);
}

static struct target *target_of(struct session *s, uint32_t pid)
{
	for (int i = 0; i < s->ntargets; i++)
		if ((uint32_t)s->targets[i].pid == pid)
			return &s->targets[i];
	return NULL;
}

static bool on_exit_held(struct target *t, void *ctx);

/*
 * --leak-check: hold t at its _exit, where its threads still live (bpf/proc.bpf.h). Without the
 * probe (no _exit found, say) the exit stop still serves, without the other threads' registers.
 */
static void hold_exit(struct session *s, struct target *t, const struct alloc_plan *plan)
{
	if (!s->env->leak_check || !t)
		return;
	t->family = plan->family;
	if (!t->seized || probe__attach_exit_stop(s->probe, t->pid, plan))
		return;
	t->on_stop = on_exit_held;
	t->stop_ctx = s;
}

/*
 * pid exec'd: what was known of its old program goes, and the new one is planned, probed and its
 * unwind tables loaded. At an exec stop (on_exec_stop) that is before the new program runs. With
 * -a the probes serve every process and tables load as objects are met: only the old goes.
 */
static void renew(struct session *s, uint32_t pid, char *cmdline)
{
	struct proc *p = procs__find(s->m->procs, pid);
	struct alloc_plan plan;
	char exe[64];

	sym__forget(s->sym, (int)pid);
	if (p) {
		free(p->cmdline);
		p->cmdline = cmdline;
		labels__read(p, true);
	} else {
		free(cmdline);
	}
	pytrace__forget(s->py, (int)pid);
	if (s->system)
		return;
	/* A command's own start too: the file it ran may be a script, whose interpreter is the program. */
	snprintf(exe, sizeof(exe), "/proc/%u/exe", pid);
	unwind__renew(s->unw, (int)pid, exe);
	if (p && p->sample_bytes)	/* sampled: the library's hooks are probed, and it stays preloaded */
		return;
	if (allocator__plan_exec((int)pid, &plan)) {
		mt_warn("pid %u (%s) runs untraced after its exec", pid, p ? p->comm : "?");
		return;
	}
	if (probe__attach_plan(s->probe, (int)pid, &plan))
		mt_warn("pid %u (%s): probes not all attached after its exec", pid, p ? p->comm : "?");
	hold_exit(s, target_of(s, pid), &plan);
	allocator__release(&plan);
}

/*
 * The new program's command line: the one its exec event carries, whole, which a program gone
 * before this is read still has; else /proc's (the kernel could not read the arguments, cut them,
 * or the event was made up at an exec stop); else what was sent, cut.
 */
static char *exec_cmdline(const struct mt_event *raw)
{
	size_t room = raw->nframes > 1 ? 8 * (raw->nframes - 1) : 0;
	size_t len = raw->nframes ? raw->args.len : 0;
	char *cmdline;

	if (len > room)
		len = 0;
	if (len && len == raw->args.full_len)
		return procmem__join_args(raw->args.bytes, len);
	cmdline = procmem__cmdline((int)raw->pid);
	return cmdline ? cmdline : procmem__join_args(raw->args.bytes, len);
}

/*
 * An exec event: the model renews the process's record (aggregate.c), told the comm it had
 * before, so that a recording replays the same; then the session renews the rest.
 */
static void exec_event(struct session *s, const struct mt_event *raw)
{
	struct proc *p = procs__find(s->m->procs, raw->pid);
	struct target *t = target_of(s, raw->pid);
	struct mt_event e;

	memcpy(&e, raw, MT_EVENT_HDR_SIZE);
	e.nframes = 0;
	memset(e.proc.old_comm, 0, sizeof(e.proc.old_comm));
	if (p && !(t && t->spawned && !t->exec_events))	/* a command's own start adds no link */
		memcpy(e.proc.old_comm, p->comm, 15);
	if (t)
		t->exec_events++;
	model__apply(s->m, &e);
	recorder__event(s->rec, &e);
	renew(s, raw->pid, exec_cmdline(raw));
	s->events++;
}

/*
 * A program starts: until its first allocation has been read, it is not known to run CPython,
 * and the probes walk no Python frames in it (user/symbolize/pytrace.c). Read its events every
 * few milliseconds meanwhile, not at the probes' batch wake-ups or the 100 ms timeout, which a
 * program starting up can take to reach: its first Python lines would be left without a line.
 */
#define STARTING_POLL_MS 5
#define STARTING_FOR_NS 2000000000ull

static void program_starts(struct session *s) { s->starting_until_ns = mt_now_ns() + STARTING_FOR_NS; }

static bool programs_starting(struct session *s)
{
	if (!s->starting_until_ns)
		return false;
	if (mt_now_ns() < s->starting_until_ns)
		for (int i = 0; i < s->ntargets; i++)
			if (!s->targets[i].exited && !pytrace__looked(s->py, s->targets[i].pid))
				return true;
	s->starting_until_ns = 0;
	return false;
}

/*
 * A held process stopped at its exec: read the ring up to now, which holds its exec event, so
 * the renewal runs before the new program's first instruction. An exec event the ring lost
 * (full) is made up here from what ptrace knows.
 */
static void on_exec_stop(struct target *t, void *ctx)
{
	struct session *s = ctx;
	struct mt_event e = { .op = MT_OP_EXEC, .pid = t->pid, .tid = t->pid };

	program_starts(s);
	ring_buffer__consume(s->rb);
	if (t->exec_events >= t->exec_stops)
		return;
	memcpy(e.proc.comm, t->comm, 15);
	exec_event(s, &e);
	t->exec_events = t->exec_stops;
}

static void hold_execs(struct session *s, struct target *t)
{
	t->on_exec = on_exec_stop;
	t->exec_ctx = s;
}

/*
 * The OOM killer chose a process: completed, applied (the model freezes what it held) and
 * recorded now, before its exit event; said and saved after this batch (oom_tick).
 */
static void oom_seen(struct session *s, const struct mt_event *raw)
{
	struct mt_event e;

	if (!oomkill__complete(s->m, raw, &e))
		return;
	model__apply(s->m, &e);
	recorder__event(s->rec, &e);
	if (s->noom < (int)(sizeof(s->oom_pids) / sizeof(s->oom_pids[0])))
		s->oom_pids[s->noom++] = e.pid;
	s->events++;
}

static void apply_event(struct session *s, void *data, size_t size)
{
	const struct mt_event *raw = probe__event(s->probe, data, &size), *e;
	bool new_stack;

	if (!raw || raw->nframes > (size - MT_EVENT_HDR_SIZE) / 8) {
		s->bad_events++;
		return;
	}
	if (raw->op == MT_OP_OOM) {
		oom_seen(s, raw);
		return;
	}
	if (s->system) {
		system__event(s->system, raw);
		if (raw->op == MT_OP_EXIT) {
			unwind__forget(s->unw, raw->pid);
			probe__forget(s->probe, raw->pid);
		}
		if (raw->op == MT_OP_EXIT || raw->op == MT_OP_EXIT_MAP)
			return;
	}
	if (raw->op == MT_OP_EXEC) {
		exec_event(s, raw);
		return;
	}
	if (faultkind__wanted(raw) && size <= sizeof(*s->scratch)) {
		memcpy(s->scratch, raw, size);
		faultkind__complete(s->fk, s->scratch);
		raw = s->scratch;
	}
	e = pytrace__event(s->py, raw);		/* Python frames named and merged */
	new_stack = model__apply(s->m, e);
	/* As aggregated, after the resident's file-fault name for it: replay applies it as is. */
	recorder__event(s->rec, e);
	if (new_stack)	/* make sure we can name its objects */
		sym__cover(s->sym, e->pid, (const uint64_t *)raw->frames,
			   pytrace__nnative(raw));
	s->events++;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	apply_event(s, data, size);
	/*
	 * -a: the whole machine can send events faster than they are read: stop when due. After the
	 * event, not before: libbpf has consumed it already, and one not applied would be lost.
	 */
	if (s->system && !(++s->read & 1023) && flood_stop_due(s))
		return -EINTR;
	return 0;
}

/* Everything to know about a process must be read while it still exists. */
static void capture_process(struct session *s, struct target *t)
{
	struct proc *p = procs__get(s->m->procs, t->pid);
	char *cmdline = procmem__cmdline(t->pid);

	agg__proc(s->m->agg, t->pid);	/* in the report, even if it allocated nothing */
	if (cmdline) {
		free(p->cmdline);
		p->cmdline = cmdline;
	}
	memcpy(p->comm, t->comm, sizeof(p->comm));
	labels__read(p, false);
	sym__refresh(s->sym, t->pid);
	recorder__process(s->rec, p);
	series__sample(s->m->series, s->m->agg, t->pid, mt_now_ns());
}

/* Why t cannot be checked soundly, or NULL. */
static const char *leak_refusal(struct session *s, struct target *t, char *buf, size_t len)
{
	const struct proc *p = procs__find(s->m->procs, t->pid);
	uint64_t loss[MT_LOSS__COUNT];
	char who[96];

	probe__losses(s->probe, loss);
	if (p && p->sample_bytes)
		return "it is sampled (libmemtrace-sample.so): only some of its blocks are known";
	if (t->family && strcmp(t->family, "glibc")) {
		snprintf(buf, len, "it allocates with %s; memtrace's leak check knows glibc's heap only",
			 t->family);
		return buf;
	}
	if (loss[MT_LOSS_RINGBUF_FULL] || loss[MT_LOSS_SCRATCH_FULL] || loss[MT_LOSS_WORK_BUSY] ||
	    (t->spawned && loss[MT_LOSS_NO_ENTRY]))
		return "events were lost (see 'lost events'): the blocks memtrace knows may not be its heap's";
	if (t->seized)
		return NULL;
	freeze__tracer(t->pid, who, sizeof(who));
	snprintf(buf, len, "another tracer holds it (%s): detach it, then run memtrace again",
		 who[0] ? who : "gdb, strace?");
	return buf;
}

/*
 * --leak-check of t, once: held at its _exit (its threads alive) or at its exit stop (the other
 * threads may be gone), or at the end of the trace while it runs (-p). The verdicts go into the
 * model; a check that could not be done says why, and memtrace fails.
 */
static void leak_check(struct session *s, struct target *t, bool at_exit)
{
	struct agg_proc *p = agg__proc(s->m->agg, t->pid);
	struct leakscan_opts o = { .at_exit = at_exit, .all_blocks_known = t->spawned,
				   .timeout_ms = 2000 };
	const char *why;
	char buf[192];

	if (!s->env->leak_check || p->leak.asked)
		return;
	ring_buffer__consume(s->rb);	/* every free until now */
	why = leak_refusal(s, t, buf, sizeof(buf));
	if (why) {
		p->leak.asked = true;
		snprintf(p->leak.why, sizeof(p->leak.why), "%s", why);
		mt_err(NULL, "no leak check of pid %d: %s", t->pid, why);
	}
	if (why || leakscan__run(s->m->agg, t->pid, &o))
		s->leak_failed = true;
}

/* The process stopped itself at _exit for the leak check (bpf/proc.bpf.h). */
static bool on_exit_held(struct target *t, void *ctx)
{
	struct session *s = ctx;

	if (probe__exit_stop_state(s->probe, t->pid) != MT_EXIT_STOP_SENT)
		return false;
	probe__exit_stop_clear(s->probe, t->pid);
	leak_check(s, t, true);
	return true;
}

static void at_exit_stop(struct target *t, void *ctx)
{
	struct session *s = ctx;

	ring_buffer__consume(s->rb);	/* its last events are in: they may need its mappings */
	leak_check(s, t, true);	/* unless done at its _exit */
	capture_process(s, t);
	recorder__symbols(s->rec, s->m, s->sym, t->pid);	/* while its objects are mapped */
	unwind__forget(s->unw, t->pid);
}

/*
 * Attach to pid's allocator, or with lib (sampling mode) to the library's hooks instead. A
 * sampled process is not traced for page faults: their cost is paid per page, not sampled, and
 * was most of sampling's overhead (~13 us per minor fault against ~9 us per sampled block).
 */
static int attach_heap(struct session *s, int pid, const struct alloc_plan *plan, const char *lib,
		       uint64_t sample_bytes)
{
	if (!lib)
		return probe__attach_plan(s->probe, pid, plan);
	procs__get(s->m->procs, pid)->sample_bytes = sample_bytes;
	return probe__attach_sampler(s->probe, pid, lib);
}

/*
 * -- CMD: the command found and its allocators planned before anything is loaded, so that one it
 * cannot run or trace (a typo, a Go program) is refused at once, in one line.
 */
static int plan_command(struct session *s)
{
	const struct env *env = s->env;
	struct command *c = &s->cmd;
	int rc = target__resolve(env->cmd[0], &c->exe);

	if (rc)
		return rc;
	if (env->sample_bytes) {
		c->lib = sampler__library();
		if (!c->lib)
			return MT_EXIT_ENV;
		sampler__setenv(c->lib, env->sample_bytes);	/* the command inherits it */
	} else if (allocator__plan_exe(c->exe, environ, &c->plan)) {
		return MT_EXIT_TARGET;
	}
	return 0;
}

/* Frees what plan_command kept and empties it: a second call does nothing. */
static void command_free(struct command *c)
{
	allocator__release(&c->plan);
	free(c->exe);
	free(c->lib);
	memset(c, 0, sizeof(*c));
}

static int start_command(struct session *s)
{
	const struct env *env = s->env;
	struct target *t = &s->targets[0];
	struct command *c = &s->cmd;
	int rc = target__spawn(t, c->exe, env->cmd);

	unwind__preload(s->unw, t->pid, c->exe);	/* its first allocations must find their tables */
	if (rc)
		return MT_EXIT_FAIL;
	s->ntargets = 1;
	if (s->tree)
		tree__follow(s->tree, t);
	hold_execs(s, t);
	target__seize(t);
	rc = attach_heap(s, t->pid, &c->plan, c->lib, env->sample_bytes);
	if (!rc && !c->lib)
		hold_exit(s, t, &c->plan);
	if (!rc && s->faults && !c->lib)	/* a sampled process: see attach_heap() */
		rc = faults__attach(s->probe, t->pid);
	if (rc) {
		target__abort(t);
		return rc == -EPERM ? MT_EXIT_ENV : MT_EXIT_FAIL;
	}
	agg__proc(s->m->agg, t->pid);
	memcpy(procs__get(s->m->procs, t->pid)->comm, t->comm, sizeof(t->comm));
	rc = target__exec(t);
	if (rc) {
		mt_err(NULL, "cannot run '%s': %s", env->cmd[0], strerror(-rc));
		target__reap(t, 1, NULL, NULL);
		return rc == -ENOENT ? MT_EXIT_NOTFOUND : MT_EXIT_NOEXEC;
	}
	program_starts(s);
	return 0;
}

static int attach_pids(struct session *s)
{
	for (int i = 0; i < s->env->npids; i++) {
		struct target *t = &s->targets[s->ntargets];
		struct alloc_plan plan = { .nobjs = 0 };
		char *lib;
		int rc;

		if (target__check_pid(t, s->env->pids[i]))
			return MT_EXIT_TARGET;
		/* Started with libmemtrace-sample.so: its samples, not a probe on every call. */
		lib = sampler__of_pid(t->pid);
		if (!lib && allocator__plan_pid(t->pid, &plan))
			return MT_EXIT_TARGET;
		rc = attach_heap(s, t->pid, &plan, lib, lib ? sampler__bytes_of_pid(t->pid) : 0);
		if (!rc && s->faults && !lib)
			rc = faults__attach(s->probe, t->pid);
		if (rc) {
			allocator__release(&plan);
			free(lib);
			return rc == -EPERM ? MT_EXIT_ENV : MT_EXIT_FAIL;
		}
		s->ntargets++;
		if (s->tree)
			tree__follow(s->tree, t);
		hold_execs(s, t);
		target__seize(t);
		if (!lib)
			hold_exit(s, t, &plan);
		allocator__release(&plan);
		free(lib);
		capture_process(s, t);
		unwind__refresh(s->unw, t->pid);
		pytrace__attach(s->py, t->pid);
	}
	return 0;
}

static void announce(const struct session *s)
{
	char mean[16];

	fprintf(stderr, "memtrace: tracing%s", s->system ? " all processes" : "");
	for (int i = 0; i < s->ntargets; i++) {
		const struct proc *p = procs__find(s->m->procs, s->targets[i].pid);

		fprintf(stderr, "%s pid %d (%s)", i ? "," : "", s->targets[i].pid, s->targets[i].comm);
		if (p && p->sample_bytes)
			fprintf(stderr, " sampled, one block per %s",
				mt_fmt_bytes(p->sample_bytes, mean));
	}
	if (s->env->duration > 0)
		fprintf(stderr, " for %gs", s->env->duration);
	fprintf(stderr, "; Ctrl-C to stop\n");
}

static bool should_stop(struct session *s)
{
	int alive;

	if (stop_signal)
		return true;
	if (s->env->duration > 0 && mt_now_ns() - s->start_ns >= s->env->duration * 1e9)
		return true;
	if (s->system) {
		system__tick(s->system);
		return false;
	}
	alive = target__reap(s->targets, s->ntargets, at_exit_stop, s);
	if (s->tree) {
		int before = s->ntargets;

		alive += tree__adopt(s->tree, &s->targets, &s->ntargets, &s->cap_targets);
		for (int i = before; i < s->ntargets; i++) {	/* forked children, held until now */
			unwind__refresh(s->unw, s->targets[i].pid);
			pytrace__attach(s->py, s->targets[i].pid);
		}
	}
	return alive == 0;
}

/* The unwinder's cost, as snapshots carry it. */
static struct mt_unwind_stats unwind_stats(const struct unwinder *u)
{
	struct unwind_cost c;

	unwind__stats(u, &c);
	return (struct mt_unwind_stats){ .mode = c.mode, .objects = c.objects, .fp_objects = c.fp_objects,
					 .failed_objects = c.failed_objects, .rows = c.rows,
					 .bytes = c.bytes, .peak_bytes = c.peak_bytes,
					 .load_ns = c.load_ns };
}

static void record_tick(struct session *s)
{
	uint64_t loss[MT_LOSS__COUNT];

	probe__losses(s->probe, loss);
	recorder__tick(s->rec, loss);
}

/* The live view's turn: a snapshot every interval, keys in between; q is Ctrl-C's twin. */
static void live_tick(struct session *s)
{
	if (live__due(s->live)) {
		struct snapshot_meta meta = { .start_ns = s->start_ns, .now_ns = mt_now_ns(),
					      .series = true, .py = s->py, .faults = s->faults,
					      .min_bytes = s->env->min_bytes, .rss_now = true };

		probe__losses(s->probe, meta.loss);
		live__show(s->live, snapshot__build(s->m, s->sym, &meta));
	}
	if (live__keys(s->live) && !stop_signal) {
		stop_signal = SIGINT;
		if (s->env->cmd && !s->targets[0].exited)
			kill(s->targets[0].pid, SIGINT);
	}
}

static struct mt_snapshot *snapshot_now(void *ctx)
{
	struct session *s = ctx;
	struct snapshot_meta meta = { .start_ns = s->start_ns, .now_ns = mt_now_ns(), .py = s->py };

	probe__losses(s->probe, meta.loss);
	meta.unwind = unwind_stats(s->unw);
	return snapshot__build(s->m, s->sym, &meta);
}

static uint32_t pprof_dir_pid(const struct session *s)	/* the one target's pid; 0 = "all" */
{
	return s->ntargets == 1 ? (uint32_t)s->targets[0].pid : 0;
}

/* Opened before anything is traced, so a taken port or a missing directory stops us early. */
static int exports_open(struct session *s)
{
	const struct env *env = s->env;

	if (env->metrics && metrics__listen(&s->metrics, env->metrics, env->metrics_top))
		return MT_EXIT_FAIL;
	if (env->pprof_dir && pprof_dir__open(&s->pdir, env->pprof_dir, env->pprof_every))
		return MT_EXIT_FAIL;
	return 0;
}

/* OOM kills seen in the last batch: said (not over the live view) and written to --pprof-dir. */
static void oom_tick(struct session *s)
{
	struct mt_snapshot *snap;

	if (!s->noom)
		return;
	snap = snapshot_now(s);
	for (int i = 0; i < s->noom; i++)
		oomkill__report(snap, s->oom_pids[i], s->pdir, !s->live);
	snapshot__free(snap);
	s->noom = 0;
}

/* Scrapes and periodic profiles: each builds its own snapshot, only when one is asked for. */
static void exports_tick(struct session *s)
{
	metrics__service(s->metrics, snapshot_now, s);
	if (pprof_dir__due(s->pdir)) {
		struct mt_snapshot *snap = snapshot_now(s);

		pprof_dir__write(s->pdir, snap, pprof_dir_pid(s));
		snapshot__free(snap);
	}
}

static int poll_loop(struct session *s)
{
	while (!should_stop(s)) {
		/* Short with the live view, so keys are answered while events keep draining. */
		int n = ring_buffer__poll(s->rb, programs_starting(s) ? STARTING_POLL_MS : s->live ? 20 : 100);

		if (n == 0)	/* faults and small batches wake nobody: take what came meanwhile */
			n = ring_buffer__consume(s->rb);
		unwind__service(s->unw);	/* tables for objects met without one (dlopen) */
		if (recorder__due(s->rec))
			record_tick(s);
		if (n < 0 && n != -EINTR) {
			mt_err(NULL, "failed to read events: %s", strerror(-n));
			return MT_EXIT_FAIL;
		}
		series__tick(s->m->series, s->m->agg, mt_now_ns());
		if (s->live)
			live_tick(s);
		oom_tick(s);
		exports_tick(s);
	}
	return 0;
}

/*
 * --leak-check at the end: the processes still running are checked now; one that ended without
 * a stop (killed, or exit() called by another thread than its first) could not be.
 */
static void leak_check_rest(struct session *s)
{
	for (int i = 0; s->env->leak_check && i < s->ntargets; i++) {
		struct target *t = &s->targets[i];
		struct agg_proc *p = agg__proc(s->m->agg, t->pid);

		if (!t->exited) {
			leak_check(s, t, false);
		} else if (!p->leak.asked) {
			p->leak.asked = true;
			snprintf(p->leak.why, sizeof(p->leak.why), "it ended without stopping at its exit "
				 "(killed, or exit() called by another thread than its first?)");
			mt_err(NULL, "no leak check of pid %d: %s", t->pid, p->leak.why);
			s->leak_failed = true;
		}
	}
}

/*
 * Take in what the probes sent and mark who exited. The probes stay attached until the outputs
 * are written: detaching waits for an RCU grace period per uprobe (about 60 ms each on a
 * virtualized machine), and the report should not wait for that. Later events are not read.
 */
static void finish(struct session *s, struct mt_snapshot **snap)
{
	struct snapshot_meta meta = { .start_ns = s->start_ns, .series = true,
				      .py = s->py, .faults = s->faults,
				      .min_bytes = s->env->min_bytes };
	uint64_t t0, cpu0;

	for (int i = 0; i < s->ntargets; i++)
		if (!s->targets[i].exited)
			capture_process(s, &s->targets[i]);
	leak_check_rest(s);
	s->drain_until_ns = mt_now_ns() + 3000000000ull;
	ring_buffer__consume(s->rb);
	oom_tick(s);	/* a kill read in the last drain is said and saved too */
	probe__losses(s->probe, meta.loss);
	probe__log_stats(s->probe);
	meta.unwind = unwind_stats(s->unw);
	target__reap(s->targets, s->ntargets, NULL, NULL);
	for (int i = 0; i < s->ntargets; i++)
		procs__get(s->m->procs, s->targets[i].pid)->exited = s->targets[i].exited;
	meta.now_ns = mt_now_ns();
	if (s->bad_events)
		mt_warn("%llu malformed events ignored", (unsigned long long)s->bad_events);
	t0 = mt_now_ns();
	cpu0 = mt_cpu_ns();
	snapshot__settle(s->m, s->sym);	/* debug info being fetched: the report waits for it */
	recorder__finish(s->rec, s->m, s->sym, &meta);
	if (s->system && system__forgotten(s->system))
		mt_warn("%llu ended processes left out to bound memory (their bytes are in the totals)",
			(unsigned long long)system__forgotten(s->system));
	*snap = snapshot__build(s->m, s->sym, &meta);
	/* scripts/bench-symbolize reads this */
	mt_debug("symbolize: final snapshot in %.1f ms (cpu %.1f ms)", (mt_now_ns() - t0) / 1e6,
		 (mt_cpu_ns() - cpu0) / 1e6);
}

/*
 * What memtrace itself cost, apart from the traced processes (the bench reads this with -v): in
 * all, and while tracing (the events' cost, without loading and attaching before it or the
 * report after it). Peak RSS includes the ring buffer, mapped twice; RssAnon at the end is the
 * daemon's own heap.
 */
static void log_own_cost(const struct session *s)
{
	long anon_kib = -1;
	char line[128];
	struct rusage ru;
	FILE *f;

	if (getrusage(RUSAGE_SELF, &ru))
		return;
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f) && sscanf(line, "RssAnon: %ld", &anon_kib) != 1)
		;
	if (f)
		fclose(f);
	mt_debug("own cost: events=%llu user_s=%.3f sys_s=%.3f maxrss_kib=%ld rss_anon_kib=%ld "
		 "tracing_s=%.3f tracing_cpu_s=%.3f",
		 (unsigned long long)s->events, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
		 ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss, anon_kib,
		 s->loop_ns / 1e9, s->loop_cpu_ns / 1e9);
}

/* --error-exitcode: anything definitely or indirectly lost, as valgrind counts errors. */
static bool leaks_found(const struct mt_snapshot *snap)
{
	for (size_t i = 0; i < snap->nprocs; i++) {
		const struct mt_leak_check *c = &snap->procs[i].leak;

		if (c->done && (c->kind[MT_LEAK_DEFINITE].blocks || c->kind[MT_LEAK_INDIRECT].blocks))
			return true;
	}
	return false;
}

static int preflight(void)
{
	if (!kfeat__privileged()) {
		mt_err("run it as root, or with sudo", "memtrace needs CAP_BPF and CAP_PERFMON");
		return MT_EXIT_ENV;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		mt_err("memtrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y",
		       "this kernel has no BTF (/sys/kernel/btf/vmlinux)");
		return MT_EXIT_ENV;
	}
	return 0;
}

static int cmd_status(struct session *s, int rc)
{
	struct target *t = &s->targets[0];
	int st;

	if (!s->env->cmd || !s->ntargets)
		return rc;
	target__detach(t);
	if (!t->exited)
		mt_debug("waiting for %s (pid %d) to finish", t->comm, t->pid);
	st = target__wait(t, &forward_signal);
	return rc ? rc : st;	/* memtrace's own failure wins over the command's status */
}

/* -a: probes on every allocator object, and page-fault events on every CPU. */
static int start_all(struct session *s)
{
	s->system = system__start(s->probe, s->m, s->sym, s->faults);
	if (!s->system)
		return MT_EXIT_ENV;
	return s->faults && faults__attach_all(s->probe) ? MT_EXIT_FAIL : 0;
}

static int load(struct session *s)
{
	struct probe_opts o = { .unwind_mode = s->env->unwind, .faults = s->env->faults,
				.all = s->env->all, .comm = s->env->comm };
	int err;

	if (s->env->cgroup && system__cgroup(s->env->cgroup, &o.cgroup_id, &o.cgroup_level))
		return -ENOENT;
	err = probe__load(&s->probe, &o);
	if (!err)	/* the kernel decides what loaded: the walker, and whether faults did */
		s->faults = probe__loaded(s->probe)->faults;
	return err;
}

int trace__run(const struct env *env)
{
	struct session s = { .env = env };
	struct mt_snapshot *snap = NULL;
	int rc = preflight();

	if (rc)
		return rc;
	if (output__check_all(env))
		return MT_EXIT_FAIL;
	install_signals();
	rc = env->cmd && !env->all ? plan_command(&s) : 0;
	if (rc)
		goto cleanup;
	rc = exports_open(&s);
	if (rc)
		goto cleanup;
	s.m = model__new();
	s.sym = sym__new(s.m->procs);
	if (env->record && recorder__open(env->record, s.sym, &s.rec)) {
		rc = MT_EXIT_FAIL;
		goto cleanup;
	}
	s.cap_targets = MT_MAX_PIDS;
	s.targets = xcalloc(s.cap_targets, sizeof(*s.targets));
	if (load(&s)) {
		rc = MT_EXIT_ENV;	/* this kernel, or this user, cannot trace */
		goto cleanup;
	}
	s.unw = unwind__new(s.probe, probe__loaded(s.probe)->unwind_mode);
	s.py = pytrace__new(env->python_frames, probe__map_fd(s.probe, "py_procs"),
			    probe__python_on(s.probe), s.m->procs);
	recorder__python(s.rec, s.py);	/* Python frames are recorded by code id, named by it */
	recorder__series(s.rec, s.m->series);
	recorder__resident(s.rec, s.m->res);
	s.fk = faultkind__new();
	s.scratch = xmalloc(sizeof(*s.scratch));
	s.rb = ring_buffer__new(probe__events_fd(s.probe), handle_event, &s, NULL);
	if (!s.rb) {
		mt_err(NULL, "failed to open the event ring buffer: %s", strerror(errno));
		rc = MT_EXIT_FAIL;
		goto cleanup;
	}
	if (env->follow)
		s.tree = tree__new(s.probe, s.m);
	if (env->all)
		rc = start_all(&s);
	else
		rc = env->cmd ? start_command(&s) : attach_pids(&s);
	command_free(&s.cmd);	/* started, or not: its plan is done with */
	if (rc)
		goto cleanup;
	s.start_ns = mt_now_ns();	/* the trace starts once the probes are in */
	s.loop_cpu_ns = mt_process_cpu_ns();	/* and its cost is counted from the same moment */
	probe__start(s.probe);
	recorder__start(s.rec, s.m, s.start_ns);
	if (!env->cmd)	/* with -- CMD, stderr belongs to the command until the report */
		announce(&s);
	if (env->live)
		s.live = live__open(env->interval);
	rc = poll_loop(&s);
	s.loop_cpu_ns = mt_process_cpu_ns() - s.loop_cpu_ns;
	s.loop_ns = mt_now_ns() - s.start_ns;
	live__close(s.live);	/* the terminal is restored before the report goes to it */
	s.live = NULL;
	finish(&s, &snap);
	if (output__write_all(env, snap) && !rc)
		rc = MT_EXIT_FAIL;
	if (s.leak_failed && !rc)
		rc = MT_EXIT_FAIL;
	if (!rc && env->error_exitcode && leaks_found(snap))
		rc = env->error_exitcode;
	if (s.pdir)	/* the last profile: what was outstanding at the end */
		pprof_dir__write(s.pdir, snap, pprof_dir_pid(&s));
	if (recorder__close(s.rec) && !rc)
		rc = MT_EXIT_FAIL;
	s.rec = NULL;
	ring_buffer__free(s.rb);
	s.rb = NULL;
	probe__destroy(s.probe);	/* before waiting for the command: it stops paying for probes */
	s.probe = NULL;
	rc = cmd_status(&s, rc);
	log_own_cost(&s);
cleanup:
	live__close(s.live);
	metrics__close(s.metrics);
	pprof_dir__free(s.pdir);
	if (rc && !snap)
		for (int i = 0; i < s.ntargets; i++)
			target__detach(&s.targets[i]);
	snapshot__free(snap);
	recorder__close(s.rec);
	ring_buffer__free(s.rb);
	unwind__free(s.unw);
	probe__destroy(s.probe);
	model__free(s.m);	/* after the snapshot (its file paths are the resident's), before the
				 * modules whose parts of each process it gives back */
	sym__free(s.sym);
	pytrace__free(s.py);
	tree__free(s.tree);
	system__free(s.system);
	faultkind__free(s.fk);
	free(s.scratch);
	free(s.targets);
	command_free(&s.cmd);
	return rc;
}
