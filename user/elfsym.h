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

/* True when the ELF executable at path has no program interpreter (is statically linked). */
bool elfsym__is_static(const char *path);

#endif
