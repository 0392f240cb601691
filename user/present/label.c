// SPDX-License-Identifier: BSD-2-Clause
/* How the export presenters name things: frames, kinds, and where a stack's own frames begin. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "present/label.h"

const char *label__frame(const struct mt_frame *f, char *buf, size_t size)
{
	const char *path, *base;

	if (f->function)
		return f->function;
	if (!f->mapping || !f->mapping->path) {
		snprintf(buf, size, "0x%" PRIx64, f->addr);
		return buf;
	}
	path = f->mapping->path;
	base = strrchr(path, '/');
	snprintf(buf, size, "%s+0x%" PRIx64, base ? base + 1 : path, f->module_offset);
	return buf;
}

const char *label__kind(enum mt_kind kind)
{
	/* Our own table: the presenters must not depend on the core's mt_kind_name(). */
	static const char *const names[MT_KIND__COUNT] = {
		[MT_KIND_HEAP] = "heap",
		[MT_KIND_MMAP] = "mmap",
	};

	return (unsigned)kind < MT_KIND__COUNT ? names[kind] : "unknown";
}

uint32_t label__first_frame(const struct mt_stack *st)
{
	/* A stack made only of plumbing (or a site not found) is shown whole rather than empty. */
	if (st->site < 0 || (uint32_t)st->site >= st->nframes)
		return 0;
	return (uint32_t)st->site;
}
