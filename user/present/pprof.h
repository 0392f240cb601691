/* SPDX-License-Identifier: BSD-2-Clause */
/* pprof's profile.proto, gzip-compressed: the heap profile `go tool pprof` and friends read. */
#ifndef MT_PPROF_H
#define MT_PPROF_H

#include <stdio.h>

#include "lib/protobuf.h"
#include "model/snapshot.h"

/*
 * One sample per stack, valued as Go heap profiles are: alloc_objects, alloc_space, inuse_objects,
 * inuse_space; labelled pid, comm and kind. Locations start at the stack's call site.
 */
void pprof__encode(const struct mt_snapshot *s, struct pb *out);	/* the uncompressed message */
/* The gzip file: 0 or -errno; pprof__write() says what failed, pprof__fwrite() leaves it to the caller. */
int pprof__fwrite(const struct mt_snapshot *s, FILE *f);
int pprof__write(const struct mt_snapshot *s, const char *path);

#endif
