/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Whole machine: a process's file mappings, sent as it exits. User space learns where a
 * process's objects lie from /proc/PID/maps when its first stack is read; a process that lives
 * for a few milliseconds can be gone by then (the consumer reads in batches), and its stacks
 * would stay unnamed. Since Linux 6.16 sched_process_exit fires before the address space is torn
 * down, so its mappings can still be read there; on older kernels task->mm is already NULL and
 * nothing is sent (the stacks of such a process stay unnamed, as before).
 */
#ifndef MT_EXIT_MAPS_BPF_H
#define MT_EXIT_MAPS_BPF_H

#include <bpf/bpf_core_read.h>
#include "work.bpf.h"

#define MT_VM_RWX 0x7			/* VM_READ | VM_WRITE | VM_EXEC */
#define MT_PAGE_SHIFT 12
#define MT_PATH_DEPTH 40		/* steps up (components and mounts); a deeper file is not sent */

extern int bpf_iter_task_vma_new(struct bpf_iter_task_vma *it, struct task_struct *task,
				 __u64 addr) __ksym __weak;
extern struct vm_area_struct *bpf_iter_task_vma_next(struct bpf_iter_task_vma *it) __ksym __weak;
extern void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma *it) __ksym __weak;

/* The path is written backwards, from its end, as the walk goes up from the file to the root. */
#define MT_PATH_END (MT_PATH_BYTES - 1)	/* where the path's NUL goes */

struct path_walk {
	struct mt_work *w;		/* the path is built in its record's path[] */
	struct dentry *d;
	struct mount *mnt;
	__u32 pos;			/* where the path written so far starts in path[] */
	bool ok;
};

/* One step up: a component, or a mount crossed. A bpf_loop callback, verified once. */
static long path_step(__u64 i, struct path_walk *w)
{
	struct dentry *d = w->d, *parent = BPF_CORE_READ(d, d_parent);
	struct mount *mnt = w->mnt;	/* locals: CO-RE reads must not relocate path_walk's fields */
	char *buf = w->w->path;
	__u32 len, start;

	if (d == BPF_CORE_READ(mnt, mnt.mnt_root) || d == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt) {	/* the root of the tree: done */
			w->ok = w->pos < MT_PATH_END;
			return 1;
		}
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);	/* go on above the mount point */
		w->mnt = up;
		return 0;
	}
	len = BPF_CORE_READ(d, d_name.len);
	start = w->pos - len - 1;	/* a wrap below 0 is caught as too big */
	if (!len || len >= MT_NAME_MAX || start > MT_PATH_END)
		return 1;
	buf[start] = '/';
	if (bpf_probe_read_kernel(buf + start + 1, len, BPF_CORE_READ(d, d_name.name)))
		return 1;
	w->pos = start;
	w->d = parent;
	return 0;
}

/*
 * The file's path from the root of the mount tree the process sees (bpf_d_path is not allowed
 * from a tracepoint), into the event's file.path, NUL-terminated. Returns its bytes, NUL
 * included, or 0 when it is deeper or longer than kept, or could not be read.
 */
static __always_inline __u32 file_path(struct file *file, struct mt_work *work)
{
	struct path_walk w = {
		.w = work,
		.d = BPF_CORE_READ(file, f_path.dentry),
		.mnt = container_of(BPF_CORE_READ(file, f_path.mnt), struct mount, mnt),
		.pos = MT_PATH_END,
	};
	char *buf = work->path;
	__u32 bytes;

	buf[MT_PATH_END] = 0;
	bpf_loop(MT_PATH_DEPTH, path_step, &w, 0);
	bytes = MT_PATH_END + 1 - w.pos;
	if (!w.ok || w.pos > MT_PATH_END || bytes > MT_PATH_BYTES)
		return 0;
	if (bpf_probe_read_kernel(work->e.file.path, bytes, buf + w.pos))
		return 0;
	return bytes;
}

/* One file mapping of an exiting process (MT_OP_EXIT_MAP; its layout is in memtrace.h). */
static __always_inline void send_exit_map(struct mt_work *w, struct vm_area_struct *vma, __u64 id)
{
	struct file *file = vma->vm_file;
	struct mt_event *e = &w->e;
	__u32 bytes;

	event_header(e, MT_OP_EXIT_MAP, id);
	bytes = file_path(file, w);
	if (!bytes)
		return;
	e->map.start = vma->vm_start;
	e->map.size = vma->vm_end - vma->vm_start;
	e->map.offset = vma->vm_pgoff << MT_PAGE_SHIFT;
	e->map.inode = file->f_inode->i_ino;
	e->file.dev = file->f_inode->i_sb->s_dev;
	e->file.perms = vma->vm_flags & MT_VM_RWX;
	e->nframes = 1 + (bytes + 7) / 8;	/* dev and perms, then the path */
	event_output(e, false);
}

/*
 * Each mapping of a file, in address order; sent before the process's exit event. Code names
 * stack frames; the others name file page faults read after the process was gone.
 */
static __always_inline void send_exit_maps(__u64 id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bpf_iter_task_vma it;
	struct vm_area_struct *vma;
	struct mt_work *w;

	/* No iterator (before 6.4), no bpf_loop for the paths, or no mm (before 6.16). */
	if (!bpf_iter_task_vma_new || !have_loop || !task->mm)
		return;
	w = work_take();
	if (!w)
		return;
	if (bpf_iter_task_vma_new(&it, task, 0) == 0)
		while ((vma = bpf_iter_task_vma_next(&it)))
			if (vma->vm_file)
				send_exit_map(w, vma, id);
	bpf_iter_task_vma_destroy(&it);
	work_give(w);
}

#endif
