/* SPDX-License-Identifier: BSD-2-Clause */
/* Is a traced process running CPython, which version, and can its Python stacks be read? */
#ifndef MT_PYPROC_H
#define MT_PYPROC_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/glibc_tsd.h"
#include "probe/python_offsets.h"

enum pyproc_state {
	PYPROC_UNKNOWN = 0,	/* not looked at yet */
	PYPROC_NONE,		/* no CPython in this process */
	PYPROC_ON,		/* Python frames are walked */
	PYPROC_UNAVAILABLE,	/* CPython, but its frames cannot be read: see why */
};

struct pyproc {
	int pid;
	enum pyproc_state state;
	char version[16];		/* "3.11.2"; "3.10" when only the name tells */
	char *path;			/* the object holding the interpreter, as the process maps it */
	char *why;			/* PYPROC_UNAVAILABLE: the reason, one line */
	char *pythonmalloc;		/* PYTHONMALLOC in its environment at start, or NULL */
	const struct py_offsets *off;
	uint64_t code_type;		/* address of PyCode_Type: tells a code object from reused memory */
	uint64_t str_type;		/* address of PyUnicode_Type (0: unknown, not checked) */
	uint64_t eval_lo, eval_hi;	/* _PyEval_EvalFrameDefault's code, as mapped */
	struct htab *codes;		/* code object address -> code id + 1 (pycode.c) */
};

/*
 * Look at process pid; when it runs a supported CPython, tell the BPF walk where its stacks are
 * (an entry in the py_procs map, map_fd). tsd may be NULL when glibc's layout is unknown.
 */
void pyproc__detect(struct pyproc *p, int pid, const struct glibc_tsd *tsd, int map_fd);
void pyproc__release(struct pyproc *p);

#endif
