// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reads code objects out of a live interpreter: co_filename and co_qualname (str objects),
 * co_firstlineno and the co_linetable bytes. They are read when first seen, while the process
 * runs, so frames resolve after it exits; each is checked again at most once per epoch.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/procmem.h"
#include "symbolize/pycode.h"
#include "symbolize/pyline.h"
#include "lib/util.h"

#define MAX_STR 4096		/* longer names and paths are cut, never misread */
#define MAX_LINETABLE (1 << 20)

static void put_utf8(char **o, uint32_t c)
{
	unsigned char *p = (unsigned char *)*o;

	if (c < 0x80) {
		*p++ = c;
	} else if (c < 0x800) {
		*p++ = 0xc0 | c >> 6;
		*p++ = 0x80 | (c & 63);
	} else if (c < 0x10000) {
		*p++ = 0xe0 | c >> 12;
		*p++ = 0x80 | (c >> 6 & 63);
		*p++ = 0x80 | (c & 63);
	} else {
		*p++ = 0xf0 | c >> 18;
		*p++ = 0x80 | (c >> 12 & 63);
		*p++ = 0x80 | (c >> 6 & 63);
		*p++ = 0x80 | (c & 63);
	}
	*o = (char *)p;
}

/* A code point a str can hold and UTF-8 can carry (no surrogates); 0 is kept out of C strings. */
static bool valid_char(uint32_t c, bool ascii) { return ascii ? c < 0x80 : c <= 0x10ffff && (c < 0xd800 || c > 0xdfff); }

/*
 * A str object as UTF-8: compact strings only (every str the compiler makes is one). A pointer
 * read from a frame that was being torn down can land on anything, so the object must be of
 * PyUnicode_Type and hold only valid characters; otherwise the name is unreadable, never garbage.
 */
static char *read_str(const struct pyproc *p, uint64_t addr)
{
	const struct py_offsets *o = p->off;
	uint8_t head[128];
	uint32_t state, kind;
	uint64_t type;
	int64_t len;
	uint8_t *raw;
	char *s, *out;

	if (!addr || procmem__read(p->pid, addr, head, o->str_compact_data))
		return NULL;
	memcpy(&type, head + o->ob_type, 8);
	memcpy(&state, head + o->str_state, 4);
	memcpy(&len, head + o->str_length, 8);
	kind = state >> 2 & 7;
	if ((p->str_type && type != p->str_type) || !(state >> 5 & 1) || len < 0 ||
	    (kind != 1 && kind != 2 && kind != 4))
		return NULL;	/* not a compact str: a legacy string, which code objects never hold */
	len = len > MAX_STR ? MAX_STR : len;
	raw = xmalloc(len * kind + 1);
	if (procmem__read(p->pid, addr + ((state >> 6 & 1) ? o->str_ascii_data : o->str_compact_data),
			  raw, len * kind)) {
		free(raw);
		return NULL;
	}
	s = out = xmalloc(len * 4 + 1);
	for (int64_t i = 0; i < len; i++) {
		uint32_t c = kind == 1 ? raw[i] : kind == 2 ? ((uint16_t *)raw)[i] : ((uint32_t *)raw)[i];

		if (!valid_char(c, state >> 6 & 1)) {
			free(raw);
			free(s);
			return NULL;
		}
		put_utf8(&out, c ? c : '?');
	}
	*out = 0;
	free(raw);
	return s;
}

static uint8_t *read_bytes(int pid, const struct py_offsets *o, uint64_t addr, size_t *n)
{
	int64_t len;
	uint8_t *b;

	*n = 0;
	if (!addr || procmem__read(pid, addr + o->bytes_size, &len, 8) || len < 0 || len > MAX_LINETABLE)
		return NULL;
	b = xmalloc(len ? len : 1);
	if (procmem__read(pid, addr + o->bytes_data, b, len)) {
		free(b);
		return NULL;
	}
	*n = len;
	return b;
}

static uint64_t field(const uint8_t *head, uint16_t off, size_t size)
{
	uint64_t v = 0;

	memcpy(&v, head + off, size);
	return v;
}

/* Read the object's header; false when it is not (or no longer) a code object. */
static bool read_head(const struct pyproc *p, uint64_t addr, uint8_t *head, uint64_t fp[4])
{
	const struct py_offsets *o = p->off;

	if (procmem__read(p->pid, addr, head, o->code_adaptive) ||
	    field(head, o->ob_type, 8) != p->code_type)
		return false;
	fp[0] = field(head, o->code_filename, 8);
	fp[1] = field(head, o->code_qualname, 8);
	fp[2] = field(head, o->code_linetable, 8);
	fp[3] = field(head, o->code_firstlineno, 4);
	return true;
}

static uint32_t add(struct pycodes *c, struct pyproc *p, uint64_t addr, const uint64_t fp[4],
		    bool valid, uint64_t epoch)
{
	struct pycode *code;

	xgrow(&c->v, &c->cap, c->n + 1, sizeof(*c->v));
	code = memset(&c->v[c->n], 0, sizeof(*code));
	code->addr = addr;
	code->checked = epoch;
	if (valid) {
		memcpy(code->fingerprint, fp, sizeof(code->fingerprint));
		code->filename = read_str(p, fp[0]);
		code->qualname = read_str(p, fp[1]);
		code->linetable = read_bytes(p->pid, p->off, fp[2], &code->nlinetable);
		code->firstlineno = (int)(int32_t)fp[3];
	}
	if (!code->filename)
		code->filename = xstrdup(valid ? "<unreadable>" : "<code object gone>");
	*(uint32_t *)htab__insert(p->codes, addr, NULL) = (uint32_t)c->n + 1;
	return (uint32_t)c->n++;
}

uint32_t pycode__identify(struct pycodes *c, struct pyproc *p, uint64_t addr, uint64_t epoch)
{
	uint32_t *slot = addr ? htab__lookup(p->codes, addr) : NULL;
	uint8_t head[256];
	uint64_t fp[4] = { 0 };
	struct pycode *known = slot ? &c->v[*slot - 1] : NULL;

	if (known && known->checked == epoch)
		return *slot - 1;
	if (!addr || !read_head(p, addr, head, fp)) {
		/* Freed since the probe saw it: the identity it had (if any) is the best guess. */
		return known ? *slot - 1 : add(c, p, addr ? addr : 1, fp, false, epoch);
	}
	if (known && !memcmp(known->fingerprint, fp, sizeof(fp))) {
		known->checked = epoch;
		return *slot - 1;
	}
	return add(c, p, addr, fp, true, epoch);
}

int pycode__line(const struct pycode *code, uint32_t instr)
{
	if (!code->linetable)
		return -1;
	return pyline__find(code->linetable, code->nlinetable, code->firstlineno, instr);
}

void pycodes__release(struct pycodes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].filename);
		free(c->v[i].qualname);
		free(c->v[i].linetable);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}
