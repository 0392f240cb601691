/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The CFI unwinder: walks a user stack with the tables user/unwind.c derives from .eh_frame, so
 * code built without frame pointers (Debian's libc, python3, sqlite3) unwinds whole. Included by
 * memtrace.bpf.c, which provides scratch, count_loss() and the event layout; walks already done
 * are replayed by walk.bpf.h.
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
 * step, not 127 of them.
 */
#ifndef MT_UNWIND_BPF_H
#define MT_UNWIND_BPF_H

#include <bpf/bpf_core_read.h>

/* Set by user space before load (--unwind). */
const volatile __u32 unwind_mode = MT_UNWIND_FP;

struct unwind_rows {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);	/* inner arrays may differ in size (5.10+) */
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct mt_unwind_row));	/* clang 14 emits the type as a FWD here */
};

/* Table slot -> that object's rows. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MT_UNWIND_MAX_OBJECTS);
	__type(key, __u32);
	__array(values, struct unwind_rows);
} unwind_tables SEC(".maps");

/* Object (dev, inode) -> its table; written by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MT_UNWIND_MAX_OBJECTS);
	__type(key, struct mt_unwind_key);
	__type(value, struct mt_unwind_obj);
} unwind_objs SEC(".maps");

/* Objects met in a stack but not loaded -> a pid that maps them; user space loads and deletes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct mt_unwind_key);
	__type(value, __u32);
} unwind_missing SEC(".maps");

/*
 * Rows already found, by the pc looked up. Most allocations come from a few hundred call sites
 * whose frames repeat event after event; a hit skips the object's lookup (bpf_find_vma) and the
 * table search, whose loads miss the cache and the TLB (an object's table is up to MiBs of
 * vmalloc pages): on sqlite3 that search was most of the unwinder's cost. An entry holds for one
 * process and one state of its address space: mm_lock_seq moves with every mmap, munmap or
 * mprotect (any change to the VMA tree), so a pc whose object changed (dlclose, then dlopen) is
 * looked up anew. Direct-mapped, per CPU: a collision only costs a lookup.
 */
#define MT_ROW_CACHE_SIZE 1024

struct mt_row_cached {
	__u64 pc;			/* 0: empty, or being written */
	__u32 tgid;
	__u32 seq;			/* the mm's mm_lock_seq when the row was found */
	struct mt_unwind_row row;
	__u32 pad;
};

struct mt_row_cache {
	struct mt_row_cached e[MT_ROW_CACHE_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_row_cache);
} row_cache SEC(".maps");

/* What walk.bpf.h needs to keep a walk for replay. */
struct mt_walk_rec {
	__u64 ip0, sp0, bp0;		/* where the walk started; reads are kept as offsets from sp0 */
	__u32 slot;			/* in walks */
	__u32 gen;			/* the slot's stamp when this walk took it */
	__u32 tag;			/* walk_tag() of the start */
	__u32 nreads;
	bool on;			/* recording this walk's reads */
	bool bp_initial;		/* rbp still holds its starting value */
	bool uses_bp;			/* a rule read it while it did */
	bool hold;			/* the word being read is rbp's: hold it until rbp is used */
	bool held;			/* rbp came from the word held_addr, not yet used */
	__u64 held_addr, held_val;
	bool lossy;			/* a frame was lost: not kept */
};

struct mt_ustate {
	__u64 ip, sp, bp;
	__u64 chunk;			/* base of the stack chunk read in this walk (0: none) */
	struct mt_vma vm;		/* the mapping of the last object found: most frames reuse it */
	struct mt_unwind_key key;
	struct mt_unwind_obj obj;
	__u32 pid;
	__u32 tid;
	__u32 seq;			/* the address space's version (mm_version) */
	bool cache;			/* seq is known and no mmap writer was at work: use the caches */
	__u32 n;			/* frames stored */
	bool have_obj;			/* obj is the object of vm */
	bool exact_ip;			/* ip was interrupted, not a return address (a fault, a signal frame) */
	bool fault;			/* a page fault's stack: its unwinding losses are not counted */
	bool truncated;
	struct mt_walk_rec rec;
};

#include "walk.bpf.h"

/* How one step ended, besides the loss reasons (enum mt_loss) that send it to the fallback. */
enum { STEP_OK = 0, STEP_END = -1 };

/* Find the object of st->ip and its table; a miss is reported to user space once per object. */
static __always_inline int find_object(struct mt_ustate *st)
{
	struct mt_unwind_obj *obj;

	if (st->ip >= st->vm.start && st->ip < st->vm.end)
		return st->have_obj ? STEP_OK : MT_LOSS_UNWIND_NO_TABLE;
	st->have_obj = false;
	st->vm.start = st->vm.end = 0;
	if (!vma_find(st->pid, st->seq, st->cache, st->ip, &st->vm) || !st->vm.ino)
		return MT_LOSS_UNWIND_NO_TABLE;	/* anonymous (JIT), or mmap_lock contended */
	st->key.dev = st->vm.dev;
	st->key.ino = st->vm.ino;
	obj = bpf_map_lookup_elem(&unwind_objs, &st->key);
	if (!obj) {
		if (!bpf_map_update_elem(&unwind_missing, &st->key, &st->pid, BPF_NOEXIST))
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
	void *rows = bpf_map_lookup_elem(&unwind_tables, &st->obj.table);
	__u32 lo = 0, hi = st->obj.nrows, idx;
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

static __always_inline bool read_u64(__u64 addr, __u64 *v)
{
	return bpf_probe_read_user(v, sizeof(*v), (void *)addr) == 0;
}

/*
 * The stack, read a chunk at a time. Each frame reads a word or two just above the last, and a
 * copy from user memory costs ~30 ns here whatever its size up to a few hundred bytes: one copy
 * of an aligned 512-byte chunk serves the reads of several frames. A chunk never crosses a page,
 * so it is readable whenever the word is. Per CPU; valid for one walk (mt_ustate.chunk).
 */
#define MT_STACK_CHUNK 512

struct mt_stack_chunk {
	__u64 w[MT_STACK_CHUNK / 8];
	__u64 base;		/* the address w was read from, */
	__u32 tid;		/* by this thread: a program that preempted the walk leaves its own */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_stack_chunk);
} stack_chunk SEC(".maps");

static __always_inline int stack_word(struct mt_ustate *st, __u64 addr, __u64 *v)
{
	__u64 base = addr & ~(__u64)(MT_STACK_CHUNK - 1);
	__u32 zero = 0;
	struct mt_stack_chunk *c = bpf_map_lookup_elem(&stack_chunk, &zero);

	if (!c || (addr & 7))
		return read_u64(addr, v);
	if (st->chunk != base || c->base != base || c->tid != st->tid) {
		st->chunk = 0;
		c->tid = 0;
		if (bpf_probe_read_user(c->w, sizeof(c->w), (void *)base))
			return read_u64(addr, v);
		c->base = base;
		c->tid = st->tid;
		st->chunk = base;
	}
	*v = c->w[(addr - base) / 8 & (MT_STACK_CHUNK / 8 - 1)];
	if (c->tid != st->tid || c->base != base)	/* rewritten while we read */
		return read_u64(addr, v);
	return true;
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

/* Count a frame the unwinder could not step. A page fault's are not: they would blur the figures
 * of the allocations' stacks, which README's unwinding section reports. */
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
	struct mt_ustate *st = ctx;
	__u32 zero = 0, n = st->n;
	struct mt_event *e = bpf_map_lookup_elem(&scratch, &zero);

	if (!e || n >= MT_MAX_FRAMES)
		return 1;
	if (!st->ip)
		return 1;
	e->frames[n] = st->ip;
	st->n = n + 1;
	if (unwind_step(st))
		return 1;
	st->truncated = st->n == MT_MAX_FRAMES;
	return 0;
}

/* Fill e->frames from user registers: an allocator's return, or a page fault's faulting
 * instruction (fault: ip exact); returns the frame count. */
static __always_inline __u32 unwind_user_stack(const struct mt_ustart *at, __u32 pid, bool fault)
{
	struct mt_ustate st = {
		.ip = at->ip,
		.sp = at->sp,
		.bp = at->bp,
		.pid = pid,
		.tid = (__u32)bpf_get_current_pid_tgid(),
		.exact_ip = fault,
		.fault = fault,
		.rec.bp_initial = true,
	};
	__u32 zero = 0, n;
	struct mt_event *e = bpf_map_lookup_elem(&scratch, &zero);

	if (!e)
		return 0;
	st.cache = mm_version(&st.seq);
	if (!fault) {	/* a fault's stack rarely repeats: its pc is any instruction */
		n = walk_replay(&st, e->frames);
		if (n)
			return n;
	}
	bpf_loop(MT_MAX_FRAMES, unwind_frame, &st, 0);
	if (st.truncated)
		count_loss(fault ? MT_LOSS_FAULT_STACK_TRUNCATED : MT_LOSS_STACK_TRUNCATED);
	walk_keep(&st, e->frames);
	return st.n;
}

#endif /* MT_UNWIND_BPF_H */
