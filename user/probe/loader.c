// SPDX-License-Identifier: BSD-2-Clause
/*
 * Loading the BPF object on this kernel. The kernel's features set the programs' have_* settings
 * (code behind one that is off is never verified) and switch off what cannot work. A program that
 * still fails the verifier makes the load step down -- page faults off, then frame pointers for
 * DWARF, then no Python frames -- and each step is said in one line with the verifier's reason.
 * A trace never ends with nothing while a reduced mode would load.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "probe/loader.h"
#include "memtrace.h"
#include "memtrace.skel.h"
#include "lib/util.h"

/* What the last failed program load said: its name and the verifier's reason line. */
static struct {
	char prog[64];
	char reason[256];
} failed;

/* The reason in a verifier log: its last line that is not one of the closing statistics. */
static void keep_reason(const char *log)
{
	const char *end = log + strlen(log), *line;

	failed.reason[0] = 0;
	while (end > log) {
		while (end > log && end[-1] == '\n')
			end--;
		line = end;
		while (line > log && line[-1] != '\n')
			line--;
		if (end > line && strncmp(line, "processed ", 10) && strncmp(line, "verification time", 17) &&
		    strncmp(line, "stack depth", 11) && strncmp(line, "-- END PROG LOAD LOG", 20)) {
			snprintf(failed.reason, sizeof(failed.reason), "%.*s", (int)(end - line), line);
			return;
		}
		end = line;
	}
}

/* libbpf's messages: shown with -v; otherwise only a failed load's log is kept, for its reason. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	const char *begin;
	char *msg;
	va_list aq;
	int n;

	if (mt_verbose)
		return vfprintf(stderr, fmt, ap);
	if (level != LIBBPF_WARN || !strstr(fmt, "prog '"))
		return 0;
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	msg = xmalloc(n + 1);
	vsnprintf(msg, n + 1, fmt, ap);
	if (strstr(msg, "BPF program load failed"))
		sscanf(msg, "libbpf: prog '%63[^']'", failed.prog);
	begin = strstr(msg, "-- BEGIN PROG LOAD LOG --\n");
	if (begin)
		keep_reason(begin + strlen("-- BEGIN PROG LOAD LOG --\n"));
	free(msg);
	return 0;
}

/* What this load asks of the programs; stepped down when the verifier refuses it. */
struct setup {
	int mode;
	bool faults, loop, find_vma, proc_events, fault_tp, page_alloc_tp, mm_seq;
	bool oom, oom_task;		/* the OOM killer's choice seen; its task handed over */
	int nsteps;
};

static void configure(struct memtrace *skel, const struct probe_opts *o, const struct setup *s)
{
	struct memtrace__rodata *ro = skel->rodata;
	struct bpf_program *off[8];
	int n = 0;

	long ps = sysconf(_SC_PAGESIZE);

	ro->unwind_mode = s->mode;
	ro->have_loop = s->loop;
	ro->have_find_vma = s->find_vma;
	ro->oom_arg_task = s->oom_task;
	ro->vma_check = getenv("MEMTRACE_CHECK_VMA") != NULL;	/* the tests: see vma.bpf.h */
	skel->data->page_size = ps > 0 ? (__u64)ps : 4096;	/* fault sizes, an OOM victim's RSS */
	if (!s->oom)
		off[n++] = skel->progs.oom_victim;
	if (!s->faults || !s->fault_tp)
		off[n++] = skel->progs.fault_user;
	if (!s->faults || !s->page_alloc_tp)
		off[n++] = skel->progs.fault_alloc;
	if (!s->faults) {
		off[n++] = skel->progs.fault_minor;
		off[n++] = skel->progs.fault_major;
	}
	if (!s->proc_events) {
		off[n++] = skel->progs.thread_exit;
		off[n++] = skel->progs.proc_exec;
	}
	for (int i = 0; i < n; i++)
		bpf_program__set_autoload(off[i], false);
	if (!o->all)
		return;
	ro->filter_pids = false;
	ro->report_exits = true;
	ro->self_tgid = getpid();
	if (o->comm) {
		strncpy((char *)ro->comm_filter, o->comm, sizeof(ro->comm_filter) - 1);
		ro->filter_comm = true;
	}
	ro->cgroup_id = o->cgroup_id;
	ro->cgroup_level = o->cgroup_level;
}

static bool one_of(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(name, *names))
			return true;
	return false;
}

/* Give up what the failed program needs, if the trace can go on without it; say so. */
static bool step_down(struct setup *s, const struct probe_opts *o, struct loaded *out)
{
	static const char *const fault_progs[] = { "fault_user", "fault_alloc", "fault_minor", "fault_major", NULL };
	static const char *const proc_progs[] = { "thread_exit", "proc_exec", NULL };
	const char *what;

	if (!failed.prog[0] || s->nsteps >= 5)
		return false;
	if (s->oom && !strcmp(failed.prog, "oom_victim")) {
		s->oom = false;
		what = "OOM kills are not seen: no picture of a process when the OOM killer chooses it";
	} else if (s->faults && one_of(failed.prog, fault_progs)) {
		s->faults = false;
		what = "page faults are not traced";
	} else if (s->proc_events && !o->all && one_of(failed.prog, proc_progs)) {
		s->proc_events = false;
		what = "exit and exec events are not traced (only -a needs them)";
	} else if (s->mode != MT_UNWIND_FP) {
		s->mode = MT_UNWIND_FP;
		what = "DWARF unwinding is off: stacks through code without frame pointers stop early";
	} else if (s->loop) {
		s->loop = false;
		what = "Python frames are off: Python programs get native stacks only";
	} else {
		return false;
	}
	out->steps[s->nsteps++] = xasprintf("%s (%s failed verification: %s)", what, failed.prog,
					    failed.reason[0] ? failed.reason : "no reason given");
	if (!o->quiet)
		mt_warn("%s", out->steps[s->nsteps - 1]);
	return true;
}

/* What this kernel lacks for the run asked, one line each, once, before the first load. */
static void say_lacks(const struct probe_opts *o, const struct setup *s)
{
	if (o->quiet)
		return;
	if (o->unwind_mode != MT_UNWIND_FP && s->mode == MT_UNWIND_FP)
		mt_warn("DWARF unwinding unavailable on this kernel (needs bpf_loop and bpf_find_vma, "
			"5.17+): stacks through code without frame pointers will stop early");
	if (!s->loop)
		mt_warn("Python frames unavailable on this kernel (needs bpf_loop, 5.17+): Python "
			"programs get native stacks only");
	if (s->faults && !s->find_vma)
		mt_warn("page faults by mapping unavailable on this kernel (needs bpf_find_vma, 5.17+): "
			"faults are filed under an unknown mapping");
	if (s->faults && s->mode != MT_UNWIND_FP && !s->mm_seq)
		mt_warn("page-fault stacks go only through code that allocation stacks went through "
			"first on this kernel (a fault cannot look mappings up before 6.4, mm_lock_seq); "
			"allocation stacks are whole");
	if (!s->oom)
		mt_warn("OOM kills unseen on this kernel (no oom:mark_victim tracepoint): no picture "
			"of a process when the OOM killer chooses it");
	if (s->faults && !(s->fault_tp && s->page_alloc_tp))
		mt_warn("page-fault sizes unavailable on this kernel (needs the page_fault_user and "
			"mm_page_alloc tracepoints): faults are counted, not sized");
}

static int required_missing(const struct mt_features *f)
{
	for (int x = 0; x < MT_FEAT__COUNT; x++) {
		if (!kfeat__required(x) || f->have[x])
			continue;
		if (x == MT_FEAT_PRIVILEGES)
			mt_err("run it as root, or with sudo", "memtrace needs CAP_BPF and CAP_PERFMON");
		else if (x == MT_FEAT_BTF)
			mt_err("memtrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y",
			       "this kernel has no BTF (/sys/kernel/btf/vmlinux)");
		else
			mt_err("memtrace needs Linux 5.17 or newer; 6.1 or newer is tested",
			       "this kernel (%s) lacks %s (%s+)", f->release, kfeat__name(x),
			       kfeat__since(x));
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Each program's statistics from the verifier (level 4: a few lines, no instruction trace). */
static void set_stats(struct memtrace *skel)
{
	enum { LOG_STATS = 4, MAX_PROGS = 64, LOG_BYTES = 1024 };
	static char logs[MAX_PROGS][LOG_BYTES];
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		if (n == MAX_PROGS)
			break;
		logs[n][0] = 0;
		bpf_program__set_log_level(prog, LOG_STATS);
		bpf_program__set_log_buf(prog, logs[n++], LOG_BYTES);
	}
}

static void load_error(int err, const struct mt_features *f)
{
	if (failed.prog[0])
		mt_err("run with -v for the verifier's whole log, and include `memtrace --check` in a bug "
		       "report", "the kernel's verifier refused BPF program %s: %s", failed.prog,
		       failed.reason[0] ? failed.reason : strerror(-err));
	else if ((err == -EPERM || err == -EACCES) && !f->have[MT_FEAT_PRIVILEGES])
		mt_err("run memtrace as root (it needs CAP_BPF and CAP_PERFMON)",
		       "failed to load BPF programs: %s", strerror(-err));
	else
		mt_err("run with -v to see the BPF loader's log", "failed to load BPF programs: %s",
		       strerror(-err));
}

/* One load as s says; NULL (with failed.* set when the verifier said why) when it fails. */
static struct memtrace *try_load(const struct probe_opts *o, const struct setup *s, bool stats,
				 int *err)
{
	struct memtrace *skel;

	failed.prog[0] = failed.reason[0] = 0;
	skel = memtrace__open();
	if (!skel) {
		*err = -errno;
		return NULL;
	}
	configure(skel, o, s);
	if (stats)
		set_stats(skel);
	*err = memtrace__load(skel);
	if (!*err)
		return skel;
	memtrace__destroy(skel);
	return NULL;
}

int loader__load(const struct probe_opts *o, const struct mt_features *f, struct memtrace **out_skel,
		 struct loaded *out)
{
	struct setup s = {
		.mode = o->unwind_mode, .faults = o->faults, .proc_events = true,
		.loop = f->have[MT_FEAT_LOOP], .find_vma = f->have[MT_FEAT_FIND_VMA],
		.fault_tp = f->have[MT_FEAT_FAULT_TP], .page_alloc_tp = f->have[MT_FEAT_PAGE_ALLOC_TP],
		.mm_seq = f->have[MT_FEAT_MM_SEQ],
		.oom = f->have[MT_FEAT_OOM_TP], .oom_task = f->have[MT_FEAT_OOM_TASK],
	};
	struct memtrace *skel;
	int err;

	libbpf_set_print(print_libbpf);
	memset(out, 0, sizeof(*out));
	if ((err = required_missing(f)))
		return err;
	if (!s.loop || !s.find_vma)
		s.mode = MT_UNWIND_FP;
	say_lacks(o, &s);
	/* The verifier's reasons come with a failed load's log: statistics only once one loads. */
	while (!(skel = try_load(o, &s, false, &err))) {
		if (!step_down(&s, o, out)) {
			load_error(err, f);
			return err;
		}
	}
	if (o->stats) {
		memtrace__destroy(skel);
		skel = try_load(o, &s, true, &err);
		if (!skel) {
			load_error(err, f);
			return err;
		}
	}
	out->unwind_mode = s.mode;
	out->faults = s.faults;
	out->python = s.loop;
	out->proc_events = s.proc_events;
	out->oom = s.oom;
	*out_skel = skel;
	return 0;
}

/* "stack depth 96+0+96+16" and "processed 12345 insns (limit ...)" of a log at level 4. */
static void parse_stats(const char *log, struct prog_stats *st)
{
	const char *p = strstr(log, "stack depth ");

	st->insns = -1;
	st->nstack = 0;
	if (p)
		for (p += strlen("stack depth "); st->nstack < 16; p++) {
			char *end;
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			st->stack[st->nstack++] = (int)v;
			p = end;
			if (*p != '+')
				break;
		}
	p = strstr(log, "processed ");
	if (p)
		st->insns = strtol(p + strlen("processed "), NULL, 10);
}

int loader__stats(struct memtrace *skel, struct prog_stats *out, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		size_t size;
		const char *log = bpf_program__log_buf(prog, &size);

		if (n == max)
			break;
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].name, sizeof(out[n].name), "%s", bpf_program__name(prog));
		out[n].loaded = bpf_program__autoload(prog) && bpf_program__fd(prog) >= 0;
		out[n].insns = -1;
		if (log && out[n].loaded)
			parse_stats(log, &out[n]);
		n++;
	}
	return n;
}
