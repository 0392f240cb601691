/* SPDX-License-Identifier: BSD-2-Clause */
/* Where glibc keeps a thread's pthread_setspecific() values, relative to its thread pointer. */
#ifndef MT_GLIBC_TSD_H
#define MT_GLIBC_TSD_H

#include <stdint.h>

struct glibc_tsd {
	uint32_t first;		/* struct pthread: specific_1stblock[32] of { seq, data } */
	uint32_t second;	/* struct pthread: specific[32], pointers to further blocks */
};

/*
 * Find the offsets in the C library memtrace itself runs on, by experiment: set known values
 * under fresh keys and look for them above our own thread pointer. Returns 0 or -errno.
 */
int glibc_tsd__probe(struct glibc_tsd *out);

#endif
