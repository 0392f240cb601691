// SPDX-License-Identifier: BSD-2-Clause
/*
 * The location table format is CPython's Objects/locations.md (3.11 to 3.13 alike): entries of
 * a header byte (bit 7 set, a 4-bit code, a length of 1-8 code units) and a code-dependent
 * body; every entry but "no location" moves the current line by a delta.
 */
#include <stdbool.h>

#include "symbolize/pyline.h"

enum { LOC_SHORT_MAX = 9, LOC_ONE_LINE0 = 10, LOC_ONE_LINE2 = 12, LOC_NO_COLUMNS = 13,
       LOC_LONG = 14, LOC_NONE = 15 };

struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint8_t next_byte(struct cursor *c)
{
	if (c->p >= c->end) {
		c->bad = true;
		return 0;
	}
	return *c->p++;
}

/* 6 bits per byte, least significant first; bit 6 says more follow. */
static uint32_t varint(struct cursor *c)
{
	uint32_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		b = next_byte(c);
		if (shift < 32)
			v |= (uint32_t)(b & 63) << shift;
		shift += 6;
	} while ((b & 64) && !c->bad);
	return v;
}

static int svarint(struct cursor *c)
{
	uint32_t v = varint(c);

	return v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
}

/* Line delta of an entry; the cursor is left at the next header. */
static int entry_delta(struct cursor *c, int code)
{
	int delta = 0;

	if (code <= LOC_SHORT_MAX) {
		next_byte(c);
	} else if (code <= LOC_ONE_LINE2) {
		delta = code - LOC_ONE_LINE0;
		next_byte(c);
		next_byte(c);
	} else if (code == LOC_NO_COLUMNS) {
		delta = svarint(c);
	} else if (code == LOC_LONG) {
		delta = svarint(c);
		varint(c);	/* end line delta */
		varint(c);	/* column + 1 */
		varint(c);	/* end column + 1 */
	}
	return delta;
}

int pyline__find(const uint8_t *table, size_t len, int firstlineno, uint32_t instr)
{
	struct cursor c = { table, table + len, false };
	uint32_t addr = 0;
	int line = firstlineno;

	while (c.p < c.end) {
		uint8_t head = next_byte(&c);
		int code = (head >> 3) & 15;
		uint32_t units = (head & 7) + 1u;

		if (!(head & 0x80))
			return -1;	/* lost sync: not a header byte */
		line += entry_delta(&c, code);
		if (c.bad)
			return -1;
		if (instr < addr + units)
			return code == LOC_NONE ? -1 : line;
		addr += units;
	}
	return -1;
}
