/* SPDX-License-Identifier: BSD-2-Clause */
/* Function symbols of an ELF file, as file offsets that uprobes attach to. */
#ifndef MT_ELFSYM_H
#define MT_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Look up each of names[0..n) among the defined functions of the ELF file at path (dynamic
 * symbols first, then the full symbol table); offs[i] gets its file offset or 0 if absent.
 * Returns the number found, or -errno when the file cannot be read as ELF.
 */
int elfsym__offsets(const char *path, const char *const *names, size_t n, uint64_t *offs);

/* The same, choosing whether the full symbol table (not only the dynamic one) is searched. */
int elfsym__offsets_in(const char *path, const char *const *names, size_t n, uint64_t *offs,
		       bool with_symtab);

/* True when the ELF file at path is a Go program. */
bool elfsym__is_go(const char *path);

/* True when the ELF executable at path has no program interpreter (is statically linked). */
bool elfsym__is_static(const char *path);
/* The program interpreter (PT_INTERP) of an executable, malloc'd; NULL for a static one. */
char *elfsym__interp(const char *path);

#endif
