/* SPDX-License-Identifier: BSD-2-Clause */
/* Symbol names as people write them: C++ (Itanium ABI) and Rust (legacy and v0), by libiberty. */
#ifndef MT_DEMANGLE_H
#define MT_DEMANGLE_H

#include <stdbool.h>

/* False with --no-demangle: every output shows names as the objects spell them. */
extern bool mt_demangle;

/*
 * The demangled form of a C++ or Rust symbol name (malloc'd), or NULL when name is not mangled
 * (a C name) or not valid. Rust legacy names drop their hash, as rustc's own demangler does.
 */
char *demangle(const char *name);

#endif
