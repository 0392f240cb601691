/* SPDX-License-Identifier: BSD-2-Clause */
/* Where in an allocator function to put its entry uprobe: the entry, or a cheaper equivalent site. */
#ifndef MT_PROBESITE_H
#define MT_PROBESITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --probe-sites: always the function's first instruction, or a cheaper equivalent when proven. */
enum probesite_mode { PROBESITE_AUTO, PROBESITE_ENTRY };
extern int probesite_mode;
/* "entry" or "auto" to enum probesite_mode; -1 for anything else. */
int probesite__parse_mode(const char *s);

/* What a uprobe on an instruction costs the traced thread (x86-64 kernels of 6.x). */
enum probesite_cost {
	PROBESITE_STEPPED,	/* copied out of line and single-stepped: a second trap */
	PROBESITE_EMULATED,	/* the kernel does its work itself: jmp/jcc/call, nop, push reg */
	PROBESITE_OPTIMIZED,	/* a 5-byte nop: the kernel may rewrite the breakpoint into a call */
};
const char *probesite__cost_name(enum probesite_cost c);

struct probesite {
	uint64_t off;			/* the file offset to attach to */
	uint64_t delta;			/* off - the function's entry */
	enum probesite_cost entry_cost, site_cost;
	char entry_insn[32], site_insn[32];	/* mnemonics, for the log */
	char why[160];			/* why the site stayed at the entry; "" when moved or cheap */
};

/*
 * Choose the probe site of the function at file offset func (size bytes, from its symbol), whose
 * executable segment is text[0..len) starting at file offset base. The result is func itself
 * unless a later site is proven to see every call exactly once with the same arguments and stack
 * pointer, and is cheaper. avoid[0..navoid) are other entry points (file offsets) that a site
 * must not pass over. Pure: no I/O.
 */
void probesite__choose(const uint8_t *text, uint64_t base, size_t len, uint64_t func,
		       uint64_t size, const uint64_t *avoid, size_t navoid, struct probesite *out);

/*
 * elfsym__offsets() for an attach table, with each entry moved to its probe site under
 * probesite_mode: sites[i] is the file offset to attach names[i]'s probes to (0 = absent). Each
 * choice is logged at -v; when obj's code cannot be read, the sites are the entries. Returns the
 * number of names found, or -errno.
 */
int probesite__offsets(const char *obj, const char *const *names, size_t n, uint64_t *sites);

/* The same for functions already found: entries[i] is names[i]'s file offset in obj. */
void probesite__sites(const char *obj, const char *const *names, const uint64_t *entries, size_t n,
		      uint64_t *sites);

#endif
