/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which mapping holds an address: what the unwinder needs (the object's file and offset) and what
 * a page fault is filed under (heap, anonymous, stack or file).
 *
 * bpf_find_vma() is cheap from a uprobe, but from the page-fault event it costs microseconds: the
 * program runs with interrupts off, so the helper releases the mmap lock through an irq_work, a
 * self-interrupt, which a VM pays dearly. Faults and stacks come back to the same few mappings,
 * so the last ones found are kept per CPU, valid for one process while its address space is
 * unchanged: the kernel's mm_lock_seq moves with every change to the VMA tree (mmap, munmap,
 * mprotect, brk), under the mmap write lock. A mapping not kept is read from the VMA tree itself
 * where mm_lock_seq can tell a read that a writer got in its way (vma_read_tree, 6.12 on), and
 * asked of bpf_find_vma elsewhere.
 */
#ifndef MT_VMA_BPF_H
#define MT_VMA_BPF_H

#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#define VM_HUGETLB 0x00400000
#define VM_IO 0x00004000

/* mm_struct as 6.4 to 6.11 have it: mm_lock_seq a plain counter, bumped as the mmap lock's
 * writer lets go (vma_end_write_all). */
struct mm_struct___int_seq {
	int mm_lock_seq;
} __attribute__((preserve_access_index));

/*
 * The address space's version for the caches (vma_cache, the unwinder's rows); false when it
 * cannot be known, or a writer is changing it (odd). mm_lock_seq came with per-VMA locks (6.4),
 * a counter, and became a seqcount in 6.12. Before 6.4 nothing is cached: then a page fault's
 * walk finds its pcs' mappings only among the code mappings kept (vma_recent), since the fault
 * event may call bpf_find_vma only once (with interrupts off, the helper gives the mmap lock back
 * through a per-CPU irq_work, still pending at the second call) and that call names the faulting
 * address's mapping.
 */
static __always_inline bool mm_version(__u32 *seq)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct___int_seq *old;

	*seq = 0;
	if (bpf_core_field_exists(task->mm->mm_lock_seq.sequence)) {
		*seq = BPF_CORE_READ(task, mm, mm_lock_seq.sequence);
		return !(*seq & 1);
	}
	old = (void *)BPF_CORE_READ(task, mm);
	if (!bpf_core_field_exists(old->mm_lock_seq))
		return false;
	*seq = BPF_CORE_READ(old, mm_lock_seq);
	return true;
}

#ifndef EBUSY
#define EBUSY 16	/* bpf_find_vma's answer when it cannot take the mmap lock */
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif

static __always_inline __u64 current_mm(void)
{
	return (__u64)BPF_CORE_READ(bpf_get_current_task_btf(), mm);
}

/* vma_find's answers, besides -EBUSY: */
enum { VMA_NONE = 0, VMA_CACHED = 1, VMA_FOUND = 2 };

/* bpf_find_vma's context is on the stack (before 6.x): it points to where the mapping goes. */
struct mt_vma_out {
	struct mt_vma *v;
};

/*
 * What a mapping is, from its fields: the caller has filled start, end, pgoff, mm, dev and ino.
 * The kernel maps "[uprobes]" (out-of-line copies of probed instructions, the return trampoline)
 * into a traced process on its first probe hit, VM_IO and without a file, which no mapping of the
 * program's own is. Its first touch is a fault that tracing itself caused.
 */
static __always_inline void vma_classify(struct mt_vma *v, __u64 flags, bool file,
					 const struct mm_struct *mm)
{
	v->uprobes = !file && (flags & VM_IO);
	if (file)	/* shared memory and MAP_HUGETLB too: their paths tell them apart */
		v->kind = MT_MAP_FILE;
	else if (v->start < mm->brk && v->end > mm->start_brk)
		v->kind = MT_MAP_HEAP;
	else if (v->start <= mm->start_stack && mm->start_stack < v->end)
		v->kind = MT_MAP_STACK;
	else
		v->kind = MT_MAP_ANON;
}

static long vma_fill(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct mt_vma *v = ((struct mt_vma_out *)data)->v;
	struct file *file = vma->vm_file;

	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->mm = (__u64)vma->vm_mm;
	v->pgoff = vma->vm_pgoff;
	v->dev = file ? file->f_inode->i_sb->s_dev : 0;
	v->ino = file ? file->f_inode->i_ino : 0;
	v->huge_bytes = 0;
	if (vma->vm_flags & VM_HUGETLB)	/* hugetlb pages go through no rmap hook: one per fault */
		v->huge_bytes = 1ull << BPF_CORE_READ(vma, vm_file, f_inode, i_sb, s_blocksize_bits);
	vma_classify(v, vma->vm_flags, file, vma->vm_mm);
	return 0;
}

/*
 * The kernel's VMA tree, read here: bpf_find_vma's lock round trip is what makes it cost
 * microseconds in a page fault (see above), and the tree can be read without the lock. Since
 * per-VMA locks (6.4) the tree's nodes are freed only after an RCU grace period, and a VMA's
 * memory stays a VMA through one (freed after it, or type-safe), and a BPF program runs inside an
 * RCU read section: so whatever is read was a node or a VMA, and a VMA of this mm holding addr
 * is checked for. Whether it was the current one, mm_lock_seq says where it is a seqcount (6.12):
 * odd while the mmap lock is held for writing, and every change to the tree is made under that
 * lock. So: read the count (even), walk, read the mapping, read the count again; unchanged means
 * what was read is the tree as it stands. Where the count is a plain counter (6.4 to 6.11) it
 * moves only when the writer lets go, so a walk meeting a writer half-way could not tell: there
 * bpf_find_vma answers.
 *
 * The tree is a maple tree: 256-byte nodes; a pointer to one carries its type in bits 3-6, and
 * the root also has bit 1 set. Each node holds sorted pivots (a slot's last address) and as many
 * slots plus one; the first pivot not below addr picks the slot (none: the last one). Internal
 * nodes of a tree that tracks gaps (the mm's) have 9 pivots and 10 slots, then gaps; leaves and
 * other internal nodes 15 and 16. A leaf's slot is a VMA, or empty for a hole. A node that was
 * replaced is marked dead by pointing its parent pointer at itself. This layout is the same from
 * 6.1 to 6.18; a node of any other type, a dead node, or a tree deeper than MT_MAPLE_DEPTH sends
 * the lookup to bpf_find_vma.
 */
#define MT_MAPLE_DEPTH 8
#define MT_MAPLE_LEAF 1		/* maple_leaf_64 */
#define MT_MAPLE_RANGE 2	/* maple_range_64 */
#define MT_MAPLE_ARANGE 3	/* maple_arange_64 */

/* Step from node t->e to its slot holding t->addr: the next node, a VMA or 0; false if none. */
static __always_inline bool maple_step(struct mt_vma_tree *t)
{
	__u32 type = t->e >> 3 & 15, pivots = 15, i;

	if (type == MT_MAPLE_ARANGE)
		pivots = 9;
	else if (type != MT_MAPLE_RANGE && type != MT_MAPLE_LEAF)
		return false;
	t->e &= ~255ull;
	if (bpf_probe_read_kernel(t->node, MT_MAPLE_NODE, (void *)t->e) || t->node[0] == t->e)
		return false;	/* unreadable, or dead */
	for (i = 0; i < pivots; i++)
		if (t->node[1 + i] >= t->addr)
			break;
	t->e = t->node[(1 + pivots + i) & (MT_MAPLE_NODE / 8 - 1)];
	return true;
}

/* From the root in t->e, the VMA holding t->addr into t->e (0 for a hole): false if none. */
static __always_inline bool maple_lookup(struct mt_vma_tree *t)
{
	__u32 d, type;

	if ((t->e & 3) != 2 || t->e <= 4096)	/* no VMA, or one at 0: no node */
		return false;
	for (d = 0; d < MT_MAPLE_DEPTH; d++) {
		type = t->e >> 3 & 15;
		if (!maple_step(t))
			return false;
		if (type == MT_MAPLE_LEAF)
			return true;
	}
	return false;
}

/* The file fields of t's VMA (from t->file) into out. */
static __always_inline bool vma_read_file(struct mt_vma_tree *t, struct mt_vma *out)
{
	struct file *file = (void *)t->file;
	struct inode *inode;
	struct super_block *sb;

	out->dev = out->ino = 0;
	if (!file)
		return true;
	if (bpf_core_read(&t->inode, 8, &file->f_inode))
		return false;
	inode = (void *)t->inode;
	if (bpf_core_read(&out->ino, 8, &inode->i_ino) || bpf_core_read(&t->sb, 8, &inode->i_sb))
		return false;
	sb = (void *)t->sb;
	return !bpf_core_read(&out->dev, 4, &sb->s_dev);
}

/*
 * The mapping of t->addr by the tree, if the address space is at version t->seq: VMA_FOUND and
 * out, VMA_NONE for a hole, or -EAGAIN when the tree cannot answer (the caller asks bpf_find_vma).
 * What is read goes to t, in the caller's working record, not the stack: this function's frame
 * adds to every walk's.
 */
__noinline int vma_read_tree(struct mt_vma *out, struct mt_vma_tree *t)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	struct vm_area_struct *vma;

	if (!t || !out || !mm || !bpf_core_field_exists(mm->mm_lock_seq.sequence))
		return -EAGAIN;	/* before 6.12: see above */
	if (bpf_core_read(&t->e, 8, &mm->mm_mt.ma_root) || !maple_lookup(t))
		return -EAGAIN;
	vma = (void *)t->e;
	if (vma && (bpf_core_read(&out->start, 8, &vma->vm_start) ||
		    bpf_core_read(&out->end, 8, &vma->vm_end) ||
		    bpf_core_read(&out->mm, 8, &vma->vm_mm) ||
		    bpf_core_read(&out->pgoff, 8, &vma->vm_pgoff) ||
		    bpf_core_read(&t->flags, 8, &vma->vm_flags) ||
		    bpf_core_read(&t->file, 8, &vma->vm_file) || !vma_read_file(t, out)))
		return -EAGAIN;
	mm = bpf_get_current_task_btf()->mm;
	if (!mm || mm->mm_lock_seq.sequence != t->seq)
		return -EAGAIN;	/* the tree changed while it was read */
	if (!t->e)
		return VMA_NONE;
	if (out->mm != (__u64)mm || t->addr < out->start || t->addr >= out->end ||
	    (t->flags & VM_HUGETLB))	/* hugetlb: vma_fill reads the page size */
		return -EAGAIN;
	out->huge_bytes = 0;
	vma_classify(out, t->flags, t->file, mm);
	return VMA_FOUND;
}

/*
 * The mapping of addr for tgid among the n entries of ring, matched by seq, or by the mm the
 * mapping is in (by_mm): 1 and out, or 0.
 */
static __always_inline int ring_find(struct mt_vma_cached *ring, __u32 n, __u32 tgid, bool by_mm,
				     __u64 want, __u64 addr, struct mt_vma *out)
{
	struct mt_vma_cached *e;
	__u32 i;

	for (i = 0; i < n; i++) {
		e = &ring[i];
		if (e->tgid == tgid && (by_mm ? e->vma.mm : e->seq) == want && addr >= e->vma.start &&
		    addr < e->vma.end)
			break;
	}
	if (i >= n)
		return 0;
	e = &ring[i];
	*out = e->vma;
	return e->tgid == tgid;	/* not rewritten under us (a program that preempted this one) */
}

/* An entry written: emptied first, so that a reader it preempted sees the change. */
static __always_inline void ring_put(struct mt_vma_cached *e, __u32 tgid, __u32 seq,
				     const struct mt_vma *v)
{
	e->tgid = 0;
	e->seq = seq;
	e->vma = *v;
	e->tgid = tgid;
}

/* The cached mapping of addr in process tgid at version seq. */
static __always_inline int vma_cached(__u32 tgid, __u32 seq, __u64 addr, struct mt_vma *out)
{
	__u32 zero = 0;
	struct mt_vma_cache *c = bpf_map_lookup_elem(&vma_cache, &zero);

	return c && ring_find(c->e, MT_VMA_CACHE_SIZE, tgid, false, seq, addr, out);
}

static __always_inline void vma_remember(__u32 tgid, __u32 seq, const struct mt_vma *v)
{
	__u32 zero = 0;
	struct mt_vma_cache *c = bpf_map_lookup_elem(&vma_cache, &zero);

	if (c)
		ring_put(&c->e[c->next++ & (MT_VMA_CACHE_SIZE - 1)], tgid, seq, v);
}

static __always_inline bool vma_same(const struct mt_vma *a, const struct mt_vma *b)
{
	return a->start == b->start && a->end == b->end && a->pgoff == b->pgoff &&
	       a->dev == b->dev && a->ino == b->ino && a->mm == b->mm && a->kind == b->kind &&
	       a->uprobes == b->uprobes && a->huge_bytes == b->huge_bytes;
}

/*
 * MEMTRACE_CHECK_VMA (the tests): the tree's answer for addr (found, and v) checked against
 * bpf_find_vma's, counted in vma_checks. In a page fault the helper answers once (see
 * mm_version): later lookups there are not compared.
 */
static __always_inline void vma_check_tree(__u64 addr, int found, const struct mt_vma *v,
					   struct mt_vma_out *to, struct mt_vma_tree *t)
{
	struct mt_vma *out = to->v;
	long err;
	bool same;

	if (found == -EAGAIN) {
		__sync_fetch_and_add(&vma_checks[MT_VMA_CHECK_GAVE_UP], 1);
		return;
	}
	to->v = &t->check;
	err = bpf_find_vma(bpf_get_current_task_btf(), addr, vma_fill, to, 0);
	to->v = out;
	if (err == -EBUSY) {
		__sync_fetch_and_add(&vma_checks[MT_VMA_CHECK_BUSY], 1);
		return;
	}
	same = err ? found == VMA_NONE : found == VMA_FOUND && vma_same(v, &t->check);
	__sync_fetch_and_add(&vma_checks[same ? MT_VMA_CHECK_SAME : MT_VMA_CHECK_DIFFER], 1);
}

/*
 * The mapping of addr in the current process, its address space at version seq (cacheable if
 * mm_version() said so), with t to read the VMA tree in: VMA_FOUND by the kernel, VMA_CACHED,
 * VMA_NONE when there is none or the kernel lacks bpf_find_vma, -EBUSY when the mmap lock was
 * contended (see vma_recent).
 * A global function: the verifier checks it once, not once per path of each caller (the
 * unwinder's loop).
 */
__noinline int vma_find(__u32 seq, bool cacheable, __u64 addr, struct mt_vma *out,
			struct mt_vma_tree *t)
{
	struct mt_vma_out to = { .v = out };
	long err;

	if (!out || !t || !have_find_vma)
		return VMA_NONE;
	t->addr = addr;	/* kept in t, not across calls on this function's stack: it adds to walks' */
	t->seq = seq;
	t->cacheable = cacheable;
	if (cacheable && vma_cached(bpf_get_current_pid_tgid() >> 32, seq, addr, out))
		return VMA_CACHED;
	err = t->cacheable ? vma_read_tree(out, t) : -EAGAIN;
	if (vma_check && t->cacheable)
		vma_check_tree(t->addr, err, out, &to, t);
	if (err == VMA_NONE)
		return VMA_NONE;
	if (err == -EAGAIN)
		err = bpf_find_vma(bpf_get_current_task_btf(), t->addr, vma_fill, &to, 0);
	else
		err = 0;
	if (err)
		return err == -EBUSY ? -EBUSY : VMA_NONE;
	if (t->cacheable)
		vma_remember(bpf_get_current_pid_tgid() >> 32, t->seq, out);
	return VMA_FOUND;
}

/*
 * Code mappings, for vma_recent. bpf_find_vma only tries the mmap lock, and fails while another
 * thread maps or unmaps, or a tracer adds or removes a probe: one stack in ten, in a program with
 * a thread doing mmap/munmap. But code on the stack cannot have been unmapped (the program would
 * crash returning to it), so the mapping the unwinder last found for it still holds, whatever
 * changed in the address space since. Each mapping is kept once (a program runs in few objects),
 * with its mm (a reused pid is another address space). Global functions, apart from vma_find:
 * their frames are not summed.
 */
__noinline int vma_keep_code(__u32 tgid, const struct mt_vma *v)
{
	__u32 zero = 0, i;
	struct mt_vma_cache *c = bpf_map_lookup_elem(&vma_cache, &zero);

	if (!c || !v)
		return 0;
	for (i = 0; i < MT_VMA_CODE_SIZE; i++)
		if (c->code[i].tgid == tgid && c->code[i].vma.start == v->start &&
		    c->code[i].vma.mm == v->mm)
			return 0;
	ring_put(&c->code[c->next_code++ & (MT_VMA_CODE_SIZE - 1)], tgid, 0, v);
	return 0;
}

/* The code mapping of addr, a return address on the stack or the pc, kept by vma_keep_code. */
__noinline int vma_recent(__u32 tgid, __u64 addr, struct mt_vma *out)
{
	__u32 zero = 0;
	struct mt_vma_cache *c = bpf_map_lookup_elem(&vma_cache, &zero);
	__u64 mm = current_mm();

	return c && out && ring_find(c->code, MT_VMA_CODE_SIZE, tgid, true, mm, addr, out);
}

#endif /* MT_VMA_BPF_H */
