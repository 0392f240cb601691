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

/* The same lookup, with each function's size in bytes (st_size; 0 when the symbol gives none). */
struct elfsym_func {
	uint64_t off;
	uint64_t size;
};
int elfsym__funcs(const char *path, const char *const *names, size_t n, struct elfsym_func *out);

/*
 * The executable segment of the ELF file at path that holds file offset off, read into memory
 * (bytes[0] is at file offset t->off). Returns 0 or -errno; free it with elfsym__free_text().
 */
struct elfsym_text {
	uint8_t *bytes;
	uint64_t off;
	size_t len;
};
int elfsym__read_text(const char *path, uint64_t off, struct elfsym_text *t);
void elfsym__free_text(struct elfsym_text *t);

/* True when the ELF executable at path has no program interpreter (is statically linked). */
bool elfsym__is_static(const char *path);
/* The program interpreter (PT_INTERP) of an executable, malloc'd; NULL for a static one. */
char *elfsym__interp(const char *path);

/* A uprobe is placed by file offset: vaddr mapped through the loadable segment holding it; 0
 * when none does. */
struct Elf;
uint64_t elfsym__file_offset(struct Elf *elf, uint64_t vaddr);

#endif
