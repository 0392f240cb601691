// SPDX-License-Identifier: BSD-2-Clause
/*
 * Probing the kernel before load. Helpers and map types are asked of the kernel itself (libbpf's
 * probes load a tiny program), kfuncs, tracepoints and structure fields are read from its BTF;
 * only the one change with no trace in BTF (the exit-time address space, 6.16) goes by version.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "probe/kfeat.h"

#define TRACEFS_MAGIC 0x74726163

static const struct {
	const char *name, *since, *without;
	bool required;
} table[MT_FEAT__COUNT] = {
	[MT_FEAT_PRIVILEGES] = { "privileges", "CAP_BPF+CAP_PERFMON", "nothing can be traced", true },
	[MT_FEAT_BTF] = { "BTF", "CONFIG_DEBUG_INFO_BTF", "nothing can be traced", true },
	[MT_FEAT_RINGBUF] = { "ring buffer", "5.8", "nothing can be traced", true },
	[MT_FEAT_TASK_STORAGE] = { "task storage", "5.11", "nothing can be traced", true },
	[MT_FEAT_ATOMICS] = { "BPF atomics", "5.12", "nothing can be traced", true },
	[MT_FEAT_LOOP] = { "bpf_loop", "5.17",
			   "no DWARF unwinding (stacks stop at code without frame pointers) and no "
			   "Python frames", false },
	[MT_FEAT_FIND_VMA] = { "bpf_find_vma", "5.17",
			       "no DWARF unwinding (stacks stop at code without frame pointers), "
			       "page faults not filed by mapping", false },
	[MT_FEAT_FAULT_TP] = { "page_fault_user", "x86", "page faults are counted but not sized", false },
	[MT_FEAT_PAGE_ALLOC_TP] = { "mm_page_alloc", "2.6", "page faults are counted but not sized", false },
	[MT_FEAT_MM_SEQ] = { "mm_lock_seq", "6.4",
			     "the unwinder's caches are off: each DWARF stack costs more, and a page "
			     "fault's stack goes only through code allocation stacks went through", false },
	[MT_FEAT_VMA_TREE] = { "VMA tree read", "6.12",
			       "a mapping not in the per-CPU cache is asked of bpf_find_vma: in a page "
			       "fault that costs an irq_work (microseconds in a VM)", false },
	[MT_FEAT_VMA_ITER] = { "vma iterator", "6.4",
			       "with -a, a process gone before its events are read keeps unnamed frames", false },
	[MT_FEAT_EXIT_MM] = { "exit mappings", "6.16",
			      "with -a, a process gone before its events are read keeps unnamed frames", false },
	[MT_FEAT_URETPROBE_SYSCALL] = { "uretprobe syscall", "6.11",
					"each return probe takes a trap (slower, still exact)", false },
	[MT_FEAT_UPROBE_NOP5] = { "nop5 uprobes", "6.17",
				  "each entry probe takes a trap (slower, still exact)", false },
	[MT_FEAT_UPROBE_MULTI] = { "uprobe_multi", "6.6", "nothing (memtrace attaches one probe at a time)", false },
	[MT_FEAT_TRACEFS] = { "tracefs", "mounted", "nothing (memtrace does not need it)", false },
	[MT_FEAT_OOM_TP] = { "oom:mark_victim", "4.13", "no picture of a process at its OOM kill", false },
	[MT_FEAT_OOM_TASK] = { "mark_victim task", "6.9",
			       "the RSS at an OOM kill is memtrace's last sample, up to 100 ms before it", false },
};

const char *kfeat__name(enum mt_feature x) { return table[x].name; }
const char *kfeat__since(enum mt_feature x) { return table[x].since; }
const char *kfeat__without(enum mt_feature x) { return table[x].without; }
bool kfeat__required(enum mt_feature x) { return table[x].required; }

/* Effective capabilities from /proc/self/status: BPF needs CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN. */
bool kfeat__privileged(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return true;	/* cannot tell: let the kernel decide */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> 21 & 1) || ((eff >> 38 & 1) && (eff >> 39 & 1));
}

/* A socket filter doing what the work-record lock does: a 32-bit atomic fetch-or on the stack. */
static int probe_atomics(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -4, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_W, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1,
		  .off = -4, .imm = BPF_OR | BPF_FETCH },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EPERM ? -EPERM : 0;
}

static void set(struct mt_features *f, enum mt_feature x, int answer)
{
	f->probed[x] = answer >= 0;
	f->have[x] = answer > 0;
}

static int helper(enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, id, NULL);
}

static int btf_has(const struct btf *btf, const char *name, __u32 kind)
{
	return btf && btf__find_by_name_kind(btf, name, kind) >= 0;
}

/* The type of member `name` of struct type id (looked for in its anonymous members too), or NULL. */
static const struct btf_type *member_type(const struct btf *btf, __u32 id, const char *name, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, id)), *found;
	const struct btf_member *m;

	if (!t || !(btf_is_struct(t) || btf_is_union(t)) || depth > 4)
		return NULL;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);

		if (!mname[0] && (found = member_type(btf, m->type, name, depth + 1)))
			return found;
		if (!strcmp(mname, name))
			return btf__type_by_id(btf, btf__resolve_type(btf, m->type));
	}
	return NULL;
}

/* mm_struct's mm_lock_seq, as the BPF programs read it: a counter (6.4) or a seqcount (6.12). */
static const struct btf_type *btf_mm_seq(const struct btf *btf)
{
	int id = btf ? btf__find_by_name_kind(btf, "mm_struct", BTF_KIND_STRUCT) : -1;
	const struct btf_type *t = id >= 0 ? member_type(btf, id, "mm_lock_seq", 0) : NULL;

	return t && (btf_is_struct(t) || btf_is_int(t)) ? t : NULL;
}

/* Does the tracepoint's first argument (after the hook's own data) point to something (a task)? */
static int tp_first_arg_is_ptr(const struct btf *btf, const char *typedef_name)
{
	int id = btf ? btf__find_by_name_kind(btf, typedef_name, BTF_KIND_TYPEDEF) : -1;
	const struct btf_type *t = id >= 0 ? btf__type_by_id(btf, btf__resolve_type(btf, id)) : NULL;

	if (!t || !btf_is_ptr(t))
		return 0;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 2)
		return 0;
	t = btf__type_by_id(btf, btf__resolve_type(btf, btf_params(t)[1].type));
	return t && btf_is_ptr(t);
}

static int at_least(const char *release, int major, int minor)
{
	int ma = 0, mi = 0;

	if (sscanf(release, "%d.%d", &ma, &mi) != 2)
		return -1;
	return ma > major || (ma == major && mi >= minor);
}

static int tracefs_mounted(void)
{
	struct statfs s;

	return (!statfs("/sys/kernel/tracing", &s) && s.f_type == TRACEFS_MAGIC) ||
	       (!statfs("/sys/kernel/debug/tracing", &s) && s.f_type == TRACEFS_MAGIC);
}

static void probe_btf(struct mt_features *f)
{
	struct btf *btf = f->have[MT_FEAT_BTF] ? btf__load_vmlinux_btf() : NULL;
	const struct btf_type *mm_seq;
	int known = btf ? 1 : -1;

	if (libbpf_get_error(btf))
		btf = NULL, known = -1;
	mm_seq = btf_mm_seq(btf);
	set(f, MT_FEAT_FAULT_TP, known < 0 ? -1 : btf_has(btf, "btf_trace_page_fault_user", BTF_KIND_TYPEDEF));
	set(f, MT_FEAT_PAGE_ALLOC_TP, known < 0 ? -1 : btf_has(btf, "btf_trace_mm_page_alloc", BTF_KIND_TYPEDEF));
	set(f, MT_FEAT_MM_SEQ, known < 0 ? -1 : mm_seq != NULL);
	/* bpf/vma.bpf.h reads the tree where the count is a seqcount (a struct), and only there */
	set(f, MT_FEAT_VMA_TREE, known < 0 ? -1 : mm_seq && btf_is_struct(mm_seq));
	set(f, MT_FEAT_VMA_ITER, known < 0 ? -1 : btf_has(btf, "bpf_iter_task_vma_new", BTF_KIND_FUNC));
	set(f, MT_FEAT_URETPROBE_SYSCALL, known < 0 ? -1 : btf_has(btf, "__x64_sys_uretprobe", BTF_KIND_FUNC));
	set(f, MT_FEAT_UPROBE_NOP5, known < 0 ? -1 : btf_has(btf, "__x64_sys_uprobe", BTF_KIND_FUNC));
	set(f, MT_FEAT_UPROBE_MULTI, known < 0 ? -1 : btf_has(btf, "bpf_uprobe_multi_link_attach", BTF_KIND_FUNC));
	set(f, MT_FEAT_OOM_TP, known < 0 ? -1 : btf_has(btf, "btf_trace_mark_victim", BTF_KIND_TYPEDEF));
	set(f, MT_FEAT_OOM_TASK, known < 0 ? -1 : tp_first_arg_is_ptr(btf, "btf_trace_mark_victim"));
	btf__free(btf);
}

void kfeat__probe(struct mt_features *f)
{
	struct utsname u;
	int ok;

	memset(f, 0, sizeof(*f));
	if (!uname(&u)) {
		snprintf(f->release, sizeof(f->release), "%.64s", u.release);
		snprintf(f->machine, sizeof(f->machine), "%.64s", u.machine);
	}
	set(f, MT_FEAT_PRIVILEGES, kfeat__privileged());
	set(f, MT_FEAT_BTF, access("/sys/kernel/btf/vmlinux", R_OK) == 0);
	ok = f->have[MT_FEAT_PRIVILEGES] ? 1 : -1;	/* the kernel answers only the privileged */
	set(f, MT_FEAT_RINGBUF, ok < 0 ? -1 : libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL));
	set(f, MT_FEAT_TASK_STORAGE, ok < 0 ? -1 :
	    libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) > 0 && helper(BPF_FUNC_task_storage_get) > 0);
	set(f, MT_FEAT_ATOMICS, ok < 0 ? -1 : probe_atomics());
	set(f, MT_FEAT_LOOP, ok < 0 ? -1 : helper(BPF_FUNC_loop));
	set(f, MT_FEAT_FIND_VMA, ok < 0 ? -1 : helper(BPF_FUNC_find_vma));
	probe_btf(f);
	set(f, MT_FEAT_EXIT_MM, at_least(f->release, 6, 16));
	set(f, MT_FEAT_TRACEFS, tracefs_mounted());
}
