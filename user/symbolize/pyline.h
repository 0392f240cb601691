/* SPDX-License-Identifier: BSD-2-Clause */
/* CPython's location table (co_linetable, 3.11 to 3.13): instruction index to line number. */
#ifndef MT_PYLINE_H
#define MT_PYLINE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The line of the instruction at index instr (in 2-byte code units from the start of the
 * bytecode) of a code object whose first line is firstlineno; -1 when the table gives it no
 * line (or does not reach it).
 */
int pyline__find(const uint8_t *table, size_t len, int firstlineno, uint32_t instr);

#endif
