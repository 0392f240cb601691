/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One object (an executable or a library) as the symbolizer reads it: ELF symbols, DWARF lines
 * and inlined calls, with its debug info from the object itself, from beside it or /usr/lib/debug,
 * or fetched from debuginfod. Used by symbolize.c only.
 */
#ifndef MT_OBJFILE_H
#define MT_OBJFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/procmaps.h"

#include "symbolize/symstore.h"

/* One frame of an address, as in struct mt_frame. */
struct sym_line {
	struct sym_name function;	/* raw NULL when unknown */
	const char *file;
	int line;
	bool inlined;
};

struct objfile {
	uint64_t dev, inode;
	char *path;			/* as the process mapped it */
	char *build_id;			/* lower-case hex, or NULL */
	struct objfile_dw *dw;		/* what is read of it; NULL when it could not be opened */
};

/* A name only: nothing resolves in it. */
struct objfile *objfile__stub(const struct pmap *pm);
/* The object behind a mapping, opened at path (taken, freed); one that cannot be is a stub. */
struct objfile *objfile__open(char *path, const struct pmap *pm);
/* Forget what was read of it (replay: the local file is not the recorded one). */
void objfile__close(struct objfile *o);
void objfile__free(struct objfile *o);

/* The ELF address at a file offset of the object; false when no loaded segment holds it. */
bool objfile__vaddr(const struct objfile *o, uint64_t file_offset, uint64_t *vaddr);

/*
 * The frames at a return address (an ELF address of the object), innermost first: the calls
 * inlined there, then the function itself. Returns how many; 0 when nothing can be read.
 * *pending: the object's debug info is being fetched, and the frames may yet improve.
 */
uint32_t objfile__lookup(struct objfile *o, struct symstore *st, uint64_t vaddr,
			 const struct sym_line **lines, bool *pending);

#endif
