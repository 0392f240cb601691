// SPDX-License-Identifier: BSD-2-Clause
/*
 * Symbol names as people write them. libiberty's demanglers (binutils' c++filt and gdb use them)
 * handle the Itanium C++ ABI and both Rust manglings. Their callback entry points are used: they
 * allocate nothing of their own, so libiberty's xmalloc never meets memtrace's.
 */
#include <stdlib.h>
#include <string.h>
#include <libiberty/demangle.h>

#include "symbolize/demangle.h"

bool mt_demangle = true;

/* The demangled text as it comes, piece by piece; failed: out of memory. */
struct out {
	char *s;
	size_t len, cap;
	bool failed;
};

static void append(const char *piece, size_t n, void *opaque)
{
	struct out *o = opaque;

	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 64;
		char *s;

		while (cap < o->len + n + 1)
			cap *= 2;
		s = realloc(o->s, cap);
		if (!s) {
			o->failed = true;
			return;
		}
		o->s = s;
		o->cap = cap;
	}
	memcpy(o->s + o->len, piece, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static char *finish(struct out *o, int ok)
{
	if (ok && !o->failed && o->len)
		return o->s;
	free(o->s);
	return NULL;
}

char *demangle(const char *name)
{
	const int opts = DMGL_PARAMS | DMGL_ANSI;
	struct out o = { 0 };

	/* Both manglings start "_Z" (C++, Rust legacy) or "_R" (Rust v0); anything else is C. */
	if (!name || name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return NULL;
	/* Rust first: a legacy Rust name is also a valid C++ one, which reads worse (hash and all). */
	if (rust_demangle_callback(name, opts, append, &o))
		return finish(&o, 1);
	free(o.s);
	o = (struct out){ 0 };
	return finish(&o, cplus_demangle_v3_callback(name, opts, append, &o));
}
