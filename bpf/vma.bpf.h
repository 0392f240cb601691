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
 * mprotect, brk), under the mmap write lock.
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

/* bpf_find_vma's context is on the stack (before 6.x): it points to where the mapping goes. */
struct mt_vma_out {
	struct mt_vma *v;
};

static long vma_fill(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct mt_vma *v = ((struct mt_vma_out *)data)->v;
	struct mm_struct *mm = vma->vm_mm;
	struct file *file = vma->vm_file;

	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->mm = (__u64)mm;
	v->pgoff = vma->vm_pgoff;
	v->dev = file ? file->f_inode->i_sb->s_dev : 0;
	v->ino = file ? file->f_inode->i_ino : 0;
	/*
	 * The kernel maps "[uprobes]" (out-of-line copies of probed instructions, the return
	 * trampoline) into a traced process on its first probe hit, VM_IO and without a file, which
	 * no mapping of the program's own is. Its first touch is a fault that tracing itself caused.
	 */
	v->uprobes = !file && (vma->vm_flags & VM_IO);
	v->huge_bytes = 0;
	if (vma->vm_flags & VM_HUGETLB)	/* hugetlb pages go through no rmap hook: one per fault */
		v->huge_bytes = 1ull << BPF_CORE_READ(vma, vm_file, f_inode, i_sb, s_blocksize_bits);
	if (file)	/* shared memory and MAP_HUGETLB too: their paths tell them apart */
		v->kind = MT_MAP_FILE;
	else if (vma->vm_start < mm->brk && vma->vm_end > mm->start_brk)
		v->kind = MT_MAP_HEAP;
	else if (vma->vm_start <= mm->start_stack && mm->start_stack < vma->vm_end)
		v->kind = MT_MAP_STACK;
	else
		v->kind = MT_MAP_ANON;
	return 0;
}

#ifndef EBUSY
#define EBUSY 16	/* bpf_find_vma's answer when it cannot take the mmap lock */
#endif

static __always_inline __u64 current_mm(void)
{
	return (__u64)BPF_CORE_READ(bpf_get_current_task_btf(), mm);
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

/* vma_find's answers, besides -EBUSY: */
enum { VMA_NONE = 0, VMA_CACHED = 1, VMA_FOUND = 2 };

/*
 * The mapping of addr in the current process (tgid), its address space at version seq (cacheable
 * if mm_version() said so): VMA_FOUND by the kernel, VMA_CACHED, VMA_NONE when there is none or
 * the kernel lacks bpf_find_vma, -EBUSY when the mmap lock was contended (see vma_recent).
 * A global function: the verifier checks it once, not once per path of each caller (the
 * unwinder's loop).
 */
__noinline int vma_find(__u32 tgid, __u32 seq, bool cacheable, __u64 addr, struct mt_vma *out)
{
	struct mt_vma_out to = { .v = out };
	long err;

	if (!out || !have_find_vma)
		return VMA_NONE;
	if (cacheable && vma_cached(tgid, seq, addr, out))
		return VMA_CACHED;
	err = bpf_find_vma(bpf_get_current_task_btf(), addr, vma_fill, &to, 0);
	if (err)
		return err == -EBUSY ? -EBUSY : VMA_NONE;
	if (cacheable)
		vma_remember(tgid, seq, out);
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
