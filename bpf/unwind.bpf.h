/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The CFI unwinder: walks a user stack with the tables user/probe/unwind.c derives from .eh_frame, so
 * code built without frame pointers (Debian's libc, python3, sqlite3) unwinds whole. Walks already
 * done are replayed by walk.bpf.h.
 *
 * Design. It starts from the registers of the allocator's return probe: ip is the return address
 * in the direct caller, sp and rbp the caller's own, a clean state to unwind from. An object is
 * found from a pc with bpf_find_vma() and named by its file's (dev, inode), the key user space
 * loads its table under; so tables are shared by every process mapping the object, no per-process
 * address map has to be kept in step with mmap, and the pc of an object not loaded yet is
 * reported (unwind_missing) for user space to load. Each frame: binary-search the object's rows
 * (an inner array of a map of maps, sized per object), apply the CFA and rbp rules, read the
 * return address below the CFA. A frame with no usable row steps by frame pointer instead, and
 * the reason is counted. Frames are stepped by a bpf_loop() callback, so the verifier checks one
 * step, not one per frame. The walk's state is in the run's working record (work.bpf.h), not on
 * the BPF stack.
 */
#ifndef MT_UNWIND_BPF_H
#define MT_UNWIND_BPF_H

#include "vma.bpf.h"
#include "walk.bpf.h"

/*
 * Rows already found, by the pc looked up. Most allocations come from a few hundred call sites
 * whose frames repeat event after event; a hit skips the object's lookup (bpf_find_vma) and the
 * table search, whose loads miss the cache and the TLB (an object's table is up to MiBs of
 * vmalloc pages): on sqlite3 that search was most of the unwinder's cost. An entry holds for one
 * process and one state of its address space: mm_lock_seq moves with every mmap, munmap or
 * mprotect (any change to the VMA tree), so a pc whose object changed (dlclose, then dlopen) is
 * looked up anew. Direct-mapped, per CPU: a collision only costs a lookup.
 */

/* How one step ended, besides the loss reasons (enum mt_loss) that send it to the fallback. */
enum { STEP_OK = 0, STEP_END = -1 };

/* Find the object of st->ip and its table; a miss is reported to user space once per object. */
static __always_inline int find_object(struct mt_ustate *st)
{
	struct mt_unwind_key key;
	struct mt_unwind_obj *obj;
	__u32 pid = st->pid;
	int found;

	if (st->ip >= st->vm.start && st->ip < st->vm.end)
		return st->have_obj ? STEP_OK : MT_LOSS_UNWIND_NO_TABLE;
	st->have_obj = false;
	st->vm.start = st->vm.end = 0;
	found = vma_find(st->seq, st->cache, st->ip, &st->vm, &st->tree);
	if (found == VMA_FOUND && st->vm.ino)
		vma_keep_code(st->pid, &st->vm);
	if (found == -EBUSY)	/* the mmap lock contended: a pc's mapping as last seen holds */
		found = vma_recent(st->pid, st->ip, &st->vm);
	if (found <= 0 || !st->vm.ino)
		return MT_LOSS_UNWIND_NO_TABLE;	/* anonymous (JIT), or never found on this CPU */
	/* Keys and values on the stack: before 6.2 a helper takes no pointer into st's memory. */
	key.dev = st->vm.dev;
	key.ino = st->vm.ino;
	obj = bpf_map_lookup_elem(&unwind_objs, &key);
	if (!obj) {
		if (!bpf_map_update_elem(&unwind_missing, &key, &pid, BPF_NOEXIST))
			wake_consumer = true;	/* every stack through it is partial until loaded */
		return MT_LOSS_UNWIND_NO_TABLE;
	}
	st->obj = *obj;
	st->have_obj = true;
	return STEP_OK;
}

/* The row in force at vaddr: the last row whose pc is not above it. */
static __always_inline int find_row(struct mt_ustate *st, __u64 vaddr, struct mt_unwind_row *out)
{
	__u32 table = st->obj.table, lo = 0, hi = st->obj.nrows, idx;
	void *rows = bpf_map_lookup_elem(&unwind_tables, &table);
	struct mt_unwind_row *r;

	if (!rows || vaddr > 0xffffffffULL)
		return MT_LOSS_UNWIND_NO_TABLE;
	for (int i = 0; i < 25 && lo < hi; i++) {	/* MT_UNWIND_MAX_ROWS = 2^24 */
		__u32 mid = lo + (hi - lo) / 2;

		r = bpf_map_lookup_elem(rows, &mid);
		if (!r)
			return MT_LOSS_UNWIND_NO_TABLE;
		if (r->pc <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return MT_LOSS_UNWIND_NO_TABLE;
	idx = lo - 1;
	r = bpf_map_lookup_elem(rows, &idx);
	if (!r)
		return MT_LOSS_UNWIND_NO_TABLE;
	*out = *r;
	return STEP_OK;
}

/* A global function: checked once by the verifier, not at each of the unwinder's reads. */
__noinline int stack_u64(struct mt_ustate *st, __u64 addr, __u64 *v)
{
	if (!st || !v || !stack_word(st, addr, v))
		return 0;
	walk_note(st, addr, *v);
	return 1;
}

/*
 * A read of the caller's saved rbp. In code without frame pointers rbp holds data, different
 * at each call: the word is a walk's input only if a later rule reads rbp (walk_use_bp).
 */
static __always_inline int stack_bp(struct mt_ustate *st, __u64 addr, __u64 *v)
{
	int ok;

	st->rec.hold = true;
	ok = stack_u64(st, addr, v);
	st->rec.hold = false;
	st->rec.bp_initial = false;
	return ok;
}

/*
 * A signal handler returns into the kernel's trampoline (__restore_rt) with sp at the ucontext;
 * the interrupted registers are in its uc_mcontext (struct sigcontext, a kernel ABI): the row
 * gives the offset of the saved rsp and of rbp, and rip follows rsp.
 */
static __always_inline int signal_step(struct mt_ustate *st, const struct mt_unwind_row *r)
{
	__u64 sp = st->sp;

	if (!stack_u64(st, sp + r->cfa_offset, &st->sp) || !stack_u64(st, sp + r->cfa_offset + 8, &st->ip) ||
	    !stack_bp(st, sp + r->rbp_offset, &st->bp))
		return MT_LOSS_UNWIND_READ_FAULT;
	st->exact_ip = true;
	return STEP_OK;
}

static __always_inline int apply_row(struct mt_ustate *st, const struct mt_unwind_row *r)
{
	__u64 cfa, ra, bp = st->bp;

	switch (r->cfa_rule) {
	case MT_CFA_RSP:
		cfa = st->sp + r->cfa_offset;
		break;
	case MT_CFA_RBP:
		cfa = walk_use_bp(st) + r->cfa_offset;
		break;
	case MT_CFA_DEREF_RBP:
		if (!stack_u64(st, walk_use_bp(st) + r->cfa_offset, &cfa))
			return MT_LOSS_UNWIND_READ_FAULT;
		break;
	case MT_CFA_PLT:
		cfa = st->sp + r->cfa_offset + ((st->ip & 15) >= (__u64)r->rbp_offset ? 8 : 0);
		break;
	case MT_CFA_SIGNAL:
		return signal_step(st, r);
	case MT_CFA_END:
		return STEP_END;
	case MT_CFA_NONE:
		return MT_LOSS_UNWIND_NO_TABLE;
	default:
		return MT_LOSS_UNWIND_UNSUPPORTED;
	}
	if (!stack_u64(st, cfa - 8, &ra))
		return MT_LOSS_UNWIND_READ_FAULT;
	if (r->rbp_rule == MT_RBP_AT_CFA && !stack_bp(st, cfa + r->rbp_offset, &bp))
		return MT_LOSS_UNWIND_READ_FAULT;
	if (r->rbp_rule == MT_RBP_AT_RBP && !stack_bp(st, walk_use_bp(st) + r->rbp_offset, &bp))
		return MT_LOSS_UNWIND_READ_FAULT;
	st->ip = ra;
	st->sp = cfa;
	st->bp = bp;
	st->exact_ip = false;
	return STEP_OK;
}

static __always_inline struct mt_row_cached *cached_slot(__u64 pc)
{
	__u32 zero = 0;
	struct mt_row_cache *c = bpf_map_lookup_elem(&row_cache, &zero);

	return c ? &c->e[(pc * 0x9e3779b97f4a7c15ull) >> 54 & (MT_ROW_CACHE_SIZE - 1)] : NULL;
}

/* The cached row of pc, if this process's address space has not changed since it was found. */
static __always_inline bool cache_get(const struct mt_ustate *st, __u64 pc, struct mt_unwind_row *out)
{
	struct mt_row_cached *c = st->cache ? cached_slot(pc) : NULL;

	if (!c || c->pc != pc || c->tgid != st->pid || c->seq != st->seq)
		return false;
	*out = c->row;
	return c->pc == pc;	/* not rewritten under us (a program that preempted this one) */
}

static __always_inline void cache_put(const struct mt_ustate *st, __u64 pc, const struct mt_unwind_row *row)
{
	struct mt_row_cached *c = st->cache ? cached_slot(pc) : NULL;

	if (!c)
		return;
	c->pc = 0;
	c->tgid = st->pid;
	c->seq = st->seq;
	c->row = *row;
	c->pc = pc;
}

static __always_inline int cfi_step(struct mt_ustate *st)
{
	struct mt_unwind_row row;
	/* A return address follows its call, which may be a function's last instruction: look up
	 * the call itself. An interrupted pc is exact. */
	__u64 pc = st->ip - (st->exact_ip ? 0 : 1), vaddr;
	int err;

	if (cache_get(st, pc, &row))
		return apply_row(st, &row);
	err = find_object(st);
	if (err)
		return err;
	if (st->obj.flags & MT_UNWIND_OBJ_FP)
		return MT_LOSS__COUNT;	/* not a loss: this object keeps frame pointers */
	vaddr = pc - st->vm.start + (st->vm.pgoff << 12) + st->obj.vaddr_adjust;
	err = find_row(st, vaddr, &row);
	if (err)
		return err;
	cache_put(st, pc, &row);
	return apply_row(st, &row);
}

/*
 * The frame-pointer step: [rbp] is the caller's rbp, [rbp + 8] the return address. A frame
 * pointer lies on the stack above sp; anything else in rbp (code built without frame pointers
 * uses it as a general register) ends the walk before it is read (frame_link_ok): reading
 * it would take a page fault in the kernel, microseconds each.
 */
static __always_inline int fp_step(struct mt_ustate *st)
{
	__u64 bp = walk_use_bp(st);

	if (!bp)
		return STEP_END;
	if (!frame_link_ok(bp, st->sp))
		return MT_LOSS_UNWIND_READ_FAULT;
	if (!stack_u64(st, bp + 8, &st->ip) || !stack_bp(st, bp, &st->bp))
		return MT_LOSS_UNWIND_READ_FAULT;
	st->sp = bp + 16;
	st->exact_ip = false;
	return STEP_OK;
}

/*
 * A function whose return is probed (an allocator, CPython's collector) returns into the kernel's
 * uretprobe trampoline: while it runs, the trampoline's address stands in its return slot and the
 * real one is in the thread's list of return instances, innermost first (a chained instance, a
 * probed tail call, shares its caller's slot). A walk from inside such a function (a page fault
 * in calloc's memset, an allocation during a collection) meets the trampoline, which has no
 * table; then, and only then, the list is read: 1 when st->ip was the trampoline and is now the
 * real return address. The real address is not on the stack, so the walk is not kept for replay.
 */
__noinline int uretprobe_return(struct mt_ustate *st)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct return_instance *ri;

	if (!st)
		return 0;
	if (!st->tramp_read) {
		st->tramp = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
		st->ri = (__u64)BPF_CORE_READ(task, utask, return_instances);
		st->tramp_read = true;
	}
	if (!st->tramp || st->ip != st->tramp || !st->ri)
		return 0;
	ri = (void *)st->ri;
	st->ip = BPF_CORE_READ(ri, orig_ret_vaddr);
	for (int i = 0; i < 8 && ri && BPF_CORE_READ(ri, chained); i++)
		ri = BPF_CORE_READ(ri, next);
	st->ri = ri ? (__u64)BPF_CORE_READ(ri, next) : 0;
	st->rec.lossy = true;
	return st->ip != 0;
}

/* Count a frame the unwinder could not step. A page fault's are not: they would blur the figures
 * of the allocations' stacks, which docs/design.md's unwinding section reports. */
static __always_inline void unwind_loss(struct mt_ustate *st, __u32 reason)
{
	st->rec.lossy = true;
	if (!st->fault)
		count_loss(reason);
}

/*
 * One frame: step from st's frame to its caller's; 1 when the walk ends. A global function, so
 * the verifier checks it once with st unknown: inlined into the loop's callback, the flags in
 * st (walk.bpf.h's among them) multiplied the states it explored past its limit.
 */
__noinline int unwind_step(struct mt_ustate *st)
{
	__u64 old_sp;
	int err;

	if (!st)
		return 1;
	old_sp = st->sp;
	err = cfi_step(st);
	if (err == MT_LOSS_UNWIND_NO_TABLE && uretprobe_return(st)) {
		st->undo = true;	/* the real address takes the trampoline's place */
		return 0;
	}
	if (err > 0) {
		if (err < MT_LOSS__COUNT)
			unwind_loss(st, err);
		err = fp_step(st);
		if (err > 0) {
			unwind_loss(st, err);
			return 1;
		}
	}
	if (err == STEP_END || !st->ip)
		return 1;
	if (st->sp <= old_sp && !st->exact_ip) {	/* a caller's frame lies above its callee's */
		unwind_loss(st, MT_LOSS_UNWIND_READ_FAULT);
		return 1;
	}
	return 0;
}

static long unwind_frame(__u32 i, void *ctx)
{
	struct mt_work *w = ((struct mt_loop *)ctx)->w;
	struct mt_ustate *st = &w->st;
	__u32 n = st->n;
	__u64 ip = st->ip;
	int end;

	if (n >= MT_MAX_FRAMES || !ip)
		return 1;
	w->e.frames[n] = ip;
	st->n = n + 1;
	end = unwind_step(st);
	if (st->undo) {		/* the next frame takes this one's place: it is not hashed */
		st->undo = false;
		st->n = n;
		return 0;
	}
	st->frames_h = frames_mix(st->frames_h, ip);
	if (end)
		return 1;
	st->truncated = st->n == MT_MAX_FRAMES;
	return 0;
}

/* A fresh walk from `at`: every field a walk reads before it writes it. */
static __always_inline void ustate_init(struct mt_ustate *st, const struct mt_ustart *at, __u32 pid,
					bool fault)
{
	st->ip = at->ip;
	st->sp = at->sp;
	st->bp = at->bp;
	st->vm.start = st->vm.end = 0;
	st->pid = pid;
	st->tid = (__u32)bpf_get_current_pid_tgid();
	st->cache = mm_version(&st->seq);
	st->frames_h = MT_FRAMES_SEED;
	st->n = 0;
	st->have_obj = false;
	st->exact_ip = fault;
	st->fault = fault;
	st->truncated = false;
	st->undo = false;
	st->tramp_read = false;
	st->chunk_base = 0;
	st->span_len = 0;
	st->rec.nreads = 0;
	st->rec.on = false;
	st->rec.bp_initial = true;
	st->rec.uses_bp = false;
	st->rec.hold = false;
	st->rec.held = false;
	st->rec.lossy = false;
}

/*
 * Fill w's event frames from the user registers in w->at: an allocator's return, or a page
 * fault's faulting instruction (fault: ip exact); returns the frame count.
 */
static __always_inline __u32 unwind_user_stack(struct mt_work *w, bool fault)
{
	struct mt_loop loop = { .w = w };
	struct mt_ustate *st = &w->st;
	__u32 n;

	ustate_init(st, &w->at, w->e.pid, fault);
	if (!fault) {	/* a fault's stack rarely repeats: its pc is any instruction */
		n = walk_replay(st, w->e.frames);
		if (n)
			goto hashed;
	}
	st->span_len = 0;	/* the walk's chunk takes the replay span's memory */
	bpf_loop(MT_MAX_FRAMES, unwind_frame, &loop, 0);
	if (st->truncated)
		count_loss(fault ? MT_LOSS_FAULT_STACK_TRUNCATED : MT_LOSS_STACK_TRUNCATED);
	walk_keep(st, w->e.frames);
	n = st->n;
hashed:
	w->nhashed = n;		/* Python's frames follow them, never change them */
	w->hashed = st->frames_h;
	return n;
}

#endif /* MT_UNWIND_BPF_H */
