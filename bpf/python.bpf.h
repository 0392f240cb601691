/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Python stack of the thread making an allocation, read from CPython's own structures:
 * its PyThreadState through the interpreter's thread-specific-storage key (so a thread that
 * released the GIL still finds its own), then the chain of _PyInterpreterFrame.
 */
#ifndef MEMTRACE_PYTHON_BPF_H
#define MEMTRACE_PYTHON_BPF_H

#include "maps.bpf.h"

static __always_inline __u64 py_read_ptr(__u64 addr, bool *ok)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		*ok = false;
	return v;
}

/*
 * A pointer on the thread's own stack: from the copy of it the native walk's replay just read
 * (st->span, valid only after a replay: unwind_user_stack), else from user memory. 3.11's and
 * 3.12's _PyCFrame is a local of the innermost eval loop, whose frame the replay's copy covers.
 */
static __always_inline __u64 py_stack_ptr(const struct mt_work *work, __u64 addr, bool *ok)
{
	const struct mt_ustate *st = &work->st;
	__u64 at = addr - st->span_base;

	if (st->span_len && addr >= st->span_base && at + 8 <= st->span_len && !(at & 7))
		return st->span[at / 8 & (MT_REPLAY_READ / 8 - 1)];
	return py_read_ptr(addr, ok);
}

/*
 * 3.11 keeps the thread state that holds the GIL in _PyRuntime, just before the TSS key: the
 * copy that reads the key reads it too (into w->head). Is it this thread's -- its thread_id,
 * pthread_self(), the thread pointer? Then it is this thread's own, and the copy that checks it
 * brings its frame field (cframe): two reads fewer than the TSS's slot and the cframe. A thread
 * without the GIL (an allocation after Py_BEGIN_ALLOW_THREADS) meets another's, or none.
 */
static __always_inline __u64 py_gil_holder(struct mt_py_walk *w, __u64 tp, __u64 *frame_field)
{
	const struct mt_py_proc *cfg = &w->cfg;
	__u32 span = cfg->tstate_thread_id + 8 - cfg->tstate_frame;
	__u64 tstate = w->head[0];

	if (!tstate || span > MT_PY_TSTATE_SPAN_MAX ||
	    bpf_probe_read_user(w->head, span, (void *)(tstate + cfg->tstate_frame)) ||
	    w->head[(span / 8 - 1) & (MT_PY_TSTATE_SPAN_MAX / 8 - 1)] != tp)
		return 0;
	*frame_field = w->head[0];
	return tstate;
}

/*
 * This thread's PyThreadState: the GIL holder's where it is this thread's (py_gil_holder), else
 * pthread_getspecific(key) from outside: glibc keeps the first 32 keys' values in
 * specific_1stblock[key].data and the rest in specific[key / 32][key % 32].data, each slot a
 * struct { uintptr_t seq; void *data; }. struct pthread sits at the thread pointer (fsbase).
 * *frame_field is PyThreadState's frame field when it came along, else left 0.
 */
static __always_inline __u64 py_thread_state(struct mt_py_walk *w, __u64 *frame_field)
{
	const struct mt_py_proc *cfg = &w->cfg;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 tp = task->thread.fsbase, block, tss, tstate;
	__u32 back = cfg->gil_back == MT_PY_NONE ? 0 : cfg->gil_back & MT_PY_GIL_BACK_MAX;
	__u32 key;

	if (bpf_probe_read_user(w->head, back + 8, (void *)(cfg->tss_key_addr - back)))
		return 0;
	tss = w->head[back / 8 & (MT_PY_GIL_BACK_MAX / 8)];	/* Py_tss_t: _is_initialized, _key */
	if (!(__u32)tss)
		return 0;	/* not initialized yet: the interpreter is still starting */
	if (back) {
		tstate = py_gil_holder(w, tp, frame_field);
		if (tstate)
			return tstate;
	}
	key = tss >> 32;
	if (key < 32)
		return py_read_ptr(tp + cfg->tsd_first + key * 16 + 8, &w->ok);
	if (key >= 1024)
		return 0;
	block = py_read_ptr(tp + cfg->tsd_second + (key / 32) * 8, &w->ok);
	return block ? py_read_ptr(block + (key % 32) * 16 + 8, &w->ok) : 0;
}

/* A field of the frame in w->head: a pointer (8-byte aligned: py_frame_span), or a byte. */
static __always_inline __u64 py_head_ptr(const struct mt_py_walk *w, __u32 off)
{
	return w->head[(off & (MT_PY_FRAME_BYTES - 8)) / 8];
}

static __always_inline __u8 py_head_byte(const struct mt_py_walk *w, __u32 off)
{
	return ((const __u8 *)w->head)[off & (MT_PY_FRAME_BYTES - 1)];
}

/*
 * One _PyInterpreterFrame: store it, or mark the frame before a shim as an entry. Its fields are
 * read with one copy of the frame's head, not one each: a copy from user memory costs about the
 * same up to a few hundred bytes. A bpf_loop() callback, so the verifier checks it once rather
 * than once per unrolled frame.
 */
static long py_step(__u64 index, void *ctx)
{
	struct mt_work *work = ((struct mt_loop *)ctx)->w;
	struct mt_py_walk *w = &work->py;
	const struct mt_py_proc *cfg = &w->cfg;
	__u64 f = w->frame, code, instr, idx = 0;
	__u32 at = w->at, span = w->span;
	__u8 owner, entry = 0;

	if (!f)
		return 1;
	if (span > MT_PY_FRAME_BYTES || bpf_probe_read_user(w->head, span, (void *)f)) {
		w->ok = false;
		return 1;
	}
	code = py_head_ptr(w, cfg->frame_code);
	instr = py_head_ptr(w, cfg->frame_instr);
	owner = py_head_byte(w, cfg->frame_owner);
	if (cfg->frame_is_entry != MT_PY_NONE)
		entry = py_head_byte(w, cfg->frame_is_entry);
	w->frame = py_head_ptr(w, cfg->frame_previous);
	if (owner == MT_PY_OWNED_BY_CSTACK) {
		if (at > w->first && at - 1 < MT_MAX_FRAMES)
			work->e.frames[at - 1] |= MT_PY_ENTRY;
		return 0;
	}
	if (at >= MT_MAX_FRAMES) {
		w->full = true;
		return 1;
	}
	if (instr > code + cfg->code_adaptive)
		idx = (instr - code - cfg->code_adaptive) / 2;
	if (idx > MT_PY_INSTR_MAX)
		idx = MT_PY_INSTR_MAX;
	work->e.frames[at] = mt_py_frame(code, idx, entry);
	w->at = at + 1;
	return 0;
}

/*
 * How much of a frame holds the fields py_step reads: past the last of them. More than
 * MT_PY_FRAME_BYTES (the walk then fails, counted) for a layout py_step cannot read from the head.
 */
static __always_inline __u32 py_frame_span(const struct mt_py_proc *cfg)
{
	__u32 span = cfg->frame_owner + 1;

	if ((cfg->frame_code | cfg->frame_previous | cfg->frame_instr) & 7)
		return MT_PY_FRAME_BYTES + 1;

	if (cfg->frame_code + 8 > span)
		span = cfg->frame_code + 8;
	if (cfg->frame_previous + 8 > span)
		span = cfg->frame_previous + 8;
	if (cfg->frame_instr + 8 > span)
		span = cfg->frame_instr + 8;
	if (cfg->frame_is_entry != MT_PY_NONE && cfg->frame_is_entry + 1 > span)
		span = cfg->frame_is_entry + 1;
	return span;
}

/*
 * Append the Python stack after the n native frames of w's event; returns the new frame count.
 * The frames are walked by bpf_loop: without it (before 5.17) Python processes get native
 * stacks only (user/probe/kfeat.c says so).
 */
static __always_inline __u32 py_append(struct mt_work *work, __u32 n)
{
	__u32 pid = work->e.pid;
	const struct mt_py_proc *cfg = python_on && have_loop ? bpf_map_lookup_elem(&py_procs, &pid) : NULL;
	struct mt_py_walk *w = &work->py;
	struct mt_loop loop = { .w = work };
	__u64 tstate, cframe = 0;

	if (!cfg)
		return n;
	w->cfg = *cfg;
	w->first = w->at = n;
	w->ok = true;
	w->full = false;
	w->span = py_frame_span(&w->cfg);
	tstate = py_thread_state(w, &cframe);
	if (!tstate)
		goto out;
	if (!cframe)
		cframe = py_read_ptr(tstate + w->cfg.tstate_frame, &w->ok);
	w->frame = w->cfg.cframe_frame == MT_PY_NONE ? cframe :
		   cframe ? py_stack_ptr(work, cframe + w->cfg.cframe_frame, &w->ok) : 0;
	if (!w->ok)
		goto out;
	bpf_loop(MT_PY_MAX_FRAMES, py_step, &loop, 0);
	if (w->ok && (w->full || w->frame))
		count_loss(MT_LOSS_PY_TRUNCATED);
out:
	if (!w->ok)
		count_loss(MT_LOSS_PY_STACK);
	return w->at;
}

#endif /* MEMTRACE_PYTHON_BPF_H */
