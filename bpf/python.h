/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The ABI of the Python stack walk: per-process interpreter layout in, tagged frames out. */
#ifndef MEMTRACE_PYTHON_ABI_H
#define MEMTRACE_PYTHON_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Python frames walked per event; they follow the native frames in mt_event.frames[]. */
#define MT_PY_MAX_FRAMES 128

/*
 * A Python frame in frames[]: bit 63 tells it from a native return address (user addresses
 * stay below 2^47), bit 62 marks the frame a C call of the eval loop entered (one native
 * _PyEval_EvalFrameDefault frame stands for it and the frames it called without a C call),
 * then the instruction index in code units and the code object's address shifted by 3 (objects
 * are 8-byte aligned). User space replaces the address by a code identity of its own.
 */
#define MT_PY_TAG (1ull << 63)
#define MT_PY_ENTRY (1ull << 62)
#define MT_PY_INSTR_SHIFT 44
#define MT_PY_INSTR_MAX ((1ull << 18) - 1)
#define MT_PY_CODE_MASK ((1ull << 44) - 1)

static inline __u64 mt_py_frame(__u64 code, __u64 instr, int entry)
{
	return MT_PY_TAG | (entry ? MT_PY_ENTRY : 0) | instr << MT_PY_INSTR_SHIFT |
	       ((code >> 3) & MT_PY_CODE_MASK);
}

/* Is this entry of frames[] a Python frame (not a native return address)? */
static inline int mt_py_is_frame(__u64 addr)
{
	return (addr & MT_PY_TAG) != 0;
}

#define MT_PY_NONE 0xffff	/* an offset this interpreter version does not have */
#define MT_PY_GIL_BACK_MAX 24	/* mt_py_proc.gil_back: at most, a multiple of 8 */
#define MT_PY_TSTATE_SPAN_MAX 128	/* PyThreadState's frame field through thread_id: at most */

/* Where to find the current thread's Python stack in one process: filled in by user space. */
struct mt_py_proc {
	__u64 tss_key_addr;	/* &_PyRuntime's autoTSSkey: a Py_tss_t { int initialized; unsigned key; } */
	__u32 tsd_first;	/* glibc: offset of specific_1stblock[] in struct pthread (at fsbase) */
	__u32 tsd_second;	/* glibc: offset of specific[] (pointers to blocks of 32 keys) */
	__u16 tstate_frame;	/* PyThreadState: cframe (3.11, 3.12) or current_frame (3.13) */
	__u16 cframe_frame;	/* _PyCFrame.current_frame, or MT_PY_NONE when tstate_frame is the frame */
	__u16 frame_code;	/* _PyInterpreterFrame: f_code / f_executable */
	__u16 frame_previous;
	__u16 frame_instr;	/* prev_instr (3.11, 3.12) / instr_ptr (3.13) */
	__u16 frame_owner;
	__u16 frame_is_entry;	/* 3.11's is_entry, else MT_PY_NONE (3.12+ mark entries by shim frames) */
	__u16 code_adaptive;	/* PyCodeObject.co_code_adaptive: where instructions start */
	__u16 gil_back;		/* 3.11: the GIL holder's PyThreadState * lies this far before the TSS key */
	__u16 tstate_thread_id;	/* 3.11: PyThreadState.thread_id (MT_PY_NONE: no GIL holder to check) */
	__u32 pad;
};

_Static_assert(sizeof(struct mt_py_proc) == 40, "mt_py_proc layout changed");

/* _PyInterpreterFrame.owner of the shim frame a C call into the eval loop pushes (3.12+). */
#define MT_PY_OWNED_BY_CSTACK 3

#endif /* MEMTRACE_PYTHON_ABI_H */
