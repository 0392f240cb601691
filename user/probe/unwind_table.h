/* SPDX-License-Identifier: BSD-2-Clause */
/* Compact unwind tables for the BPF unwinder, derived from an object's .eh_frame (pure, no BPF). */
#ifndef MT_UNWIND_TABLE_H
#define MT_UNWIND_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libelf.h>

#include "memtrace.h"

struct unwind_table {
	struct mt_unwind_row *rows;	/* sorted by pc; consecutive rows always differ */
	size_t n, cap;
	int64_t vaddr_adjust;		/* p_vaddr - p_offset of the (first) executable segment */
	bool has_fp;			/* most functions keep rbp as frame pointer (CFA = rbp + 16) */
	uint32_t nfdes;			/* functions (FDEs) seen */
	uint32_t nunsupported;		/* rows whose rules the BPF unwinder cannot follow */
};

/*
 * Build the table of an ELF object from .eh_frame (found through .eh_frame_hdr). Returns 0,
 * -ENOENT when the object has no .eh_frame_hdr, -ENOTSUP for encodings not handled, -EINVAL
 * for malformed data. On error *t is empty.
 */
int unwind_table__build(Elf *elf, struct unwind_table *t);
/* The same from a file path. */
int unwind_table__build_file(const char *path, struct unwind_table *t);
void unwind_table__release(struct unwind_table *t);

/*
 * The start address of every function the object's CFI describes, sorted (from .eh_frame_hdr's
 * search table, or the symbol table of a static executable); free *starts. 0 or -errno.
 */
int unwind_table__starts(Elf *elf, uint64_t **starts, size_t *n);

/* The row in force at ELF address vaddr (the BPF unwinder's binary search, in C); NULL if none. */
const struct mt_unwind_row *unwind_table__find(const struct unwind_table *t, uint64_t vaddr);

#endif
