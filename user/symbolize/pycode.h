/* SPDX-License-Identifier: BSD-2-Clause */
/* Python code objects read from a traced process, each given a stable identity memtrace owns. */
#ifndef MT_PYCODE_H
#define MT_PYCODE_H

#include <stddef.h>
#include <stdint.h>

#include "probe/pyproc.h"

struct pycode {
	uint64_t addr;			/* where it lived in its process */
	uint64_t fingerprint[4];	/* co_filename, co_qualname, co_linetable, co_firstlineno */
	uint64_t checked;		/* epoch of the last check that addr still holds it */
	char *filename, *qualname;	/* qualname NULL when the object could not be read */
	int firstlineno;
	uint8_t *linetable;
	size_t nlinetable;
};

struct pycodes {
	struct pycode *v;
	size_t n, cap;
};

/*
 * The identity of the code object at addr in process p, read now if not seen (or not checked in
 * this epoch): an address reused by another code object gets a new identity, so frames of the
 * two never merge. Identities are indices into c->v, stable for the whole trace.
 */
uint32_t pycode__identify(struct pycodes *c, struct pyproc *p, uint64_t addr, uint64_t epoch);

/* Line of the instruction at instr (code units), or -1. */
int pycode__line(const struct pycode *code, uint32_t instr);

void pycodes__release(struct pycodes *c);

#endif
