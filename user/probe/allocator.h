/* SPDX-License-Identifier: BSD-2-Clause */
/* Which allocator functions a process really calls, and in which mapped object each one lives. */
#ifndef MT_ALLOCATOR_H
#define MT_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a function is probed. */
enum alloc_how {
	ALLOC_CALL,	/* entry program + the return program, which reports the result with a stack */
	ALLOC_FREE,	/* an allocator's own free: entry only, reports at once */
	ALLOC_FREE_WRAP, /* a release entry point that may forward to another probed one (operator
			  * delete -> free): entered and reported at its return, so the inner call folds */
};

struct alloc_spec {
	const char *func;	/* symbol name */
	const char *prog;	/* BPF entry program */
	enum alloc_how how;
	const char *family;	/* "glibc", "jemalloc", "tcmalloc", "mimalloc", "c++" */
};

/* One function to probe: the spec, the object that defines it for this process, the offset. */
struct alloc_site {
	const struct alloc_spec *spec;
	size_t obj;		/* index into alloc_plan.objs */
	uint64_t offset;	/* file offset of the function in the object */
};

struct alloc_obj {
	char *path;		/* as the process names it (for messages) */
	char *open_path;	/* a path memtrace can open: /proc/PID/map_files/..., or path itself */
	uint64_t dev, inode;
};

struct alloc_plan {
	struct alloc_obj *objs;
	size_t nobjs;
	struct alloc_site *sites;
	size_t nsites;
	const char *family;	/* the family malloc itself belongs to, for messages */
};

/*
 * Plan for a running process: its mapped objects in symbol-lookup order (executable, LD_PRELOAD
 * libraries, then the rest), each allocator function bound to the first object defining it, as the
 * dynamic linker binds it. Returns 0, -ENOTSUP for a Go program, -ENOENT when no malloc is found,
 * or -errno; errors are reported here, with a hint.
 */
int allocator__plan_pid(int pid, struct alloc_plan *out);

/*
 * Plan for a program about to be executed with envp: its objects are what its dynamic linker
 * would load (asked with `ld.so --list`, which honours LD_PRELOAD and LD_LIBRARY_PATH).
 */
int allocator__plan_exe(const char *exe, char *const envp[], struct alloc_plan *out);

/* The program pid has just exec'd, planned with its own environment (see allocator__plan_exe). */
int allocator__plan_exec(int pid, struct alloc_plan *out);

/* Plan every definition in one object, whoever maps it (-a: probes that serve every process). */
int allocator__plan_object(const char *path, const char *open_path, uint64_t dev, uint64_t inode,
			   struct alloc_plan *out);

void allocator__release(struct alloc_plan *p);

/* True when the mapped file is worth looking into for -a: a shared object or executable. */
bool allocator__is_candidate(const char *path);

#endif
