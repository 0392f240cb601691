/* SPDX-License-Identifier: BSD-2-Clause */
/* pprof's profile.proto, gzip-compressed: the heap profile `go tool pprof` and friends read. */
#ifndef MT_PPROF_H
#define MT_PPROF_H

#include <stdint.h>
#include <stdio.h>

#include "lib/protobuf.h"
#include "model/snapshot.h"

/* Each stack's four values at one moment: where a delta profile starts. */
struct pprof_base;

/* What a profile shows. All zero: every process, figures since the start, inuse_space first. */
struct pprof_opts {
	uint32_t pid;			/* only this process; 0: every one */
	const char *default_type;	/* the sample type shown first; NULL: "inuse_space" */
	const struct pprof_base *base;	/* a delta: each value minus the base's, as Go's ?seconds=N */
	uint64_t time_ns;		/* when it was taken (Unix time, ns); 0: not said */
};

/*
 * One sample per stack, valued as Go heap profiles are: alloc_objects, alloc_space, inuse_objects,
 * inuse_space; labelled pid, comm, kind, and exe, cgroup, container_id, service_name when known.
 * Locations start at the stack's call site. A delta leaves out the stacks that did not change.
 * opts may be NULL.
 */
void pprof__encode(const struct mt_snapshot *s, const struct pprof_opts *opts, struct pb *out);
/* gzip framing of an encoded profile, as profile.proto asks of files and HTTP answers: 0 or -errno. */
int pprof__gzip(const struct pb *in, struct pb *out);
/* The base for a delta of s's processes (pid's alone when not 0); pprof__base_free() it. */
struct pprof_base *pprof__base(const struct mt_snapshot *s, uint32_t pid);
void pprof__base_free(struct pprof_base *b);

/* /debug/pprof/: an HTML page of the profiles served and the processes they cover. */
void pprof__index(const struct mt_snapshot *s, FILE *f);

/* The gzip file: 0 or -errno; pprof__write() says what failed, pprof__fwrite() leaves it to the caller. */
int pprof__fwrite(const struct mt_snapshot *s, const struct pprof_opts *opts, FILE *f);
int pprof__write(const struct mt_snapshot *s, const char *path);

#endif
