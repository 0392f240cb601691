// SPDX-License-Identifier: BSD-2-Clause
/*
 * The recording file format: records packed into independently compressed, checksummed blocks.
 *
 * Why blocks: a recording is written while the trace runs and may be cut short by a kill or a
 * crash. Each block is written with one write(2), so a killed writer leaves only whole blocks; a
 * reader decodes block by block, so memory stays bounded by the block size on either side, and a
 * bad block is found by its crc before zlib ever sees it. Records never span blocks.
 * Why raw events: the file keeps what the probes sent, and replay runs it through the same
 * aggregation code as a live trace, so every present and future report reads recordings for free.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "recording.h"
#include "util.h"

/* Integers are stored little-endian and events as the probes laid them out: both need this. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "recordings are little-endian");

#define NO_STRING 0xffffffffu	/* a string's length when it is NULL */
#define REC_HDR 8u		/* u32 type, u32 len */

struct rec_writer {
	int fd;
	char *path;
	uint8_t *raw;		/* records of the block being filled */
	size_t len, cap;
	size_t rec_at;		/* where the open record's header is */
	uint8_t *z;
	size_t zcap;
	uint64_t bytes, events;
	int err;		/* first write error: later writes are skipped */
};

static void put(struct rec_writer *w, const void *p, size_t n)
{
	xgrow(&w->raw, &w->cap, w->len + n, 1);
	memcpy(w->raw + w->len, p, n);
	w->len += n;
}

static void put_u32(struct rec_writer *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(struct rec_writer *w, uint64_t v) { put(w, &v, 8); }

/* u32 length, the bytes, then a NUL the reader checks, so it can hand out pointers in place. */
static void put_str(struct rec_writer *w, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : NO_STRING;

	put_u32(w, n);
	if (s)
		put(w, s, n + 1);
}

static void begin(struct rec_writer *w, enum rec_type type)
{
	w->rec_at = w->len;
	put_u32(w, type);
	put_u32(w, 0);		/* length, patched by end() */
}

static void end(struct rec_writer *w)
{
	uint32_t n = (uint32_t)(w->len - w->rec_at - REC_HDR);

	memcpy(w->raw + w->rec_at + 4, &n, 4);
	if (w->len >= REC_BLOCK_TARGET)
		rec_writer__flush(w);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int rec_writer__create(const char *path, struct rec_writer **out)
{
	struct rec_writer *w;
	uint8_t hdr[REC_HEADER_SIZE];
	uint32_t v = REC_VERSION, flags = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err;

	if (fd < 0) {
		err = -errno;
		mt_err("check the directory exists and is writable", "failed to create recording %s: %s",
		       path, strerror(errno));
		return err;
	}
	memcpy(hdr, REC_MAGIC, 8);
	memcpy(hdr + 8, &v, 4);
	memcpy(hdr + 12, &flags, 4);
	err = write_all(fd, hdr, sizeof(hdr));
	if (err) {
		mt_err(NULL, "failed to write recording %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->path = xstrdup(path);
	w->bytes = sizeof(hdr);
	*out = w;
	return 0;
}

void rec_writer__start(struct rec_writer *w, uint64_t start_ns)
{
	begin(w, REC_START);
	put_u64(w, start_ns);
	end(w);
}

void rec_writer__event(struct rec_writer *w, const struct mt_event *e)
{
	uint32_t n = e->nframes <= MT_MAX_FRAMES ? e->nframes : MT_MAX_FRAMES;

	begin(w, REC_EVENT);
	put(w, e, MT_EVENT_HDR_SIZE);
	memcpy(w->raw + w->len - MT_EVENT_HDR_SIZE + 12, &n, 4);	/* nframes, clamped */
	put(w, e->frames, 8 * n);
	w->events++;
	end(w);
}

void rec_writer__proc(struct rec_writer *w, const struct rec_proc *p)
{
	begin(w, REC_PROC);
	put_u32(w, p->pid);
	put_u32(w, p->exited);
	put(w, p->comm, sizeof(p->comm));
	put_str(w, p->cmdline);
	end(w);
}

void rec_writer__maps(struct rec_writer *w, const struct rec_maps *m)
{
	begin(w, REC_MAPS);
	put_u32(w, m->pid);
	put_u32(w, (uint32_t)m->n);
	for (size_t i = 0; i < m->n; i++) {
		const struct rec_map *e = &m->maps[i];

		put_u64(w, e->start);
		put_u64(w, e->end);
		put_u64(w, e->offset);
		put_u64(w, e->dev);
		put_u64(w, e->inode);
		put_str(w, e->path ? e->path : "");
		put_str(w, e->build_id);
	}
	end(w);
}

void rec_writer__mapping(struct rec_writer *w, const struct rec_mapping *m)
{
	begin(w, REC_MAPPING);
	put_u32(w, m->id);
	put_u64(w, m->start);
	put_u64(w, m->end);
	put_u64(w, m->file_offset);
	put_str(w, m->path ? m->path : "");
	put_str(w, m->build_id);
	end(w);
}

void rec_writer__symbol(struct rec_writer *w, const struct rec_symbol *s)
{
	begin(w, REC_SYMBOL);
	put_u32(w, s->pid);
	put_u32(w, (uint32_t)s->line);
	put_u64(w, s->addr);
	put_u64(w, s->module_offset);
	put_u32(w, s->mapping);
	put_str(w, s->function);
	put_str(w, s->file);
	end(w);
}

void rec_writer__clock(struct rec_writer *w, const struct rec_clock *c, bool last)
{
	begin(w, last ? REC_END : REC_CLOCK);
	put_u64(w, c->now_ns);
	put_u32(w, MT_LOSS__COUNT);
	for (int i = 0; i < MT_LOSS__COUNT; i++)
		put_u64(w, c->loss[i]);
	end(w);
}

void rec_writer__unwind(struct rec_writer *w, const struct mt_unwind_stats *u)
{
	begin(w, REC_UNWIND);
	put_str(w, u->mode);
	put_u32(w, u->objects);
	put_u32(w, u->fp_objects);
	put_u32(w, u->failed_objects);
	put_u64(w, u->rows);
	put_u64(w, u->bytes);
	put_u64(w, u->peak_bytes);
	put_u64(w, u->load_ns);
	end(w);
}

int rec_writer__flush(struct rec_writer *w)
{
	uLongf zlen;
	uint32_t hdr[3];
	int err;

	if (w->err || !w->len)
		return w->err;
	zlen = compressBound(w->len);
	xgrow(&w->z, &w->zcap, REC_BLOCK_HEADER_SIZE + zlen, 1);
	/*
	 * Level 3: on a recording of tests/workloads/leaky (3.0 MB of records) it compresses at
	 * 66 MB/s to 263 KB, where the default level 6 manages 27 MB/s for 235 KB. The drain loop
	 * compresses, and it must keep up with the probes: ~76 B per event at 66 MB/s is ~870k
	 * events/s, far above what uprobes deliver (~7 us each).
	 */
	if (compress2(w->z + REC_BLOCK_HEADER_SIZE, &zlen, w->raw, w->len, 3) != Z_OK)
		abort();	/* only Z_MEM_ERROR is possible with a big enough buffer: as xmalloc */
	hdr[0] = (uint32_t)zlen;
	hdr[1] = (uint32_t)w->len;
	hdr[2] = (uint32_t)crc32(0, w->z + REC_BLOCK_HEADER_SIZE, zlen);
	memcpy(w->z, hdr, sizeof(hdr));
	/* One write per block: a writer killed mid-way leaves whole blocks only. */
	err = write_all(w->fd, w->z, REC_BLOCK_HEADER_SIZE + zlen);
	if (err) {
		mt_err("is the disk full?", "failed to write recording %s: %s", w->path, strerror(-err));
		w->err = err;
		return err;
	}
	w->bytes += REC_BLOCK_HEADER_SIZE + zlen;
	w->len = 0;
	return 0;
}

uint64_t rec_writer__bytes(const struct rec_writer *w) { return w->bytes; }
uint64_t rec_writer__events(const struct rec_writer *w) { return w->events; }

int rec_writer__close(struct rec_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = rec_writer__flush(w);
	if (close(w->fd) && !err) {
		err = -errno;
		mt_err(NULL, "failed to write recording %s: %s", w->path, strerror(errno));
	}
	free(w->raw);
	free(w->z);
	free(w->path);
	free(w);
	return err;
}

/* Reader. */

struct rec_reader {
	FILE *f;
	char *name;
	uint64_t off;		/* file offset of the next block */
	uint64_t block_off;	/* file offset of the block being read */
	uint64_t truncated;
	uint8_t *z, *raw;
	size_t zcap, rawcap, raw_len, pos;
	struct rec_map *maps;
	size_t mapscap;
	struct mt_event ev;
};

/* A bounds-checked view of one record's payload. */
struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const void *take(struct cursor *c, size_t n)
{
	const void *p = c->p;

	if (c->bad || n > c->left) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

static uint32_t get_u32(struct cursor *c)
{
	const void *p = take(c, 4);
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, 4);
	return v;
}

static uint64_t get_u64(struct cursor *c)
{
	const void *p = take(c, 8);
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, 8);
	return v;
}

/* The writer left a NUL after each string: it is checked, and the string used in place. */
static const char *get_str(struct cursor *c)
{
	uint32_t n = get_u32(c);
	const char *s;

	if (n == NO_STRING || c->bad)
		return NULL;
	if (n >= c->left) {
		c->bad = true;
		return NULL;
	}
	s = take(c, (size_t)n + 1);
	if (s && s[n]) {
		c->bad = true;
		return NULL;
	}
	return s;
}

int rec_reader__open(FILE *f, const char *name, struct rec_reader **out)
{
	uint8_t hdr[REC_HEADER_SIZE];
	uint32_t version, flags;
	size_t n = fread(hdr, 1, sizeof(hdr), f);

	if (n < 8 || memcmp(hdr, REC_MAGIC, 8)) {
		mt_err("record one with `memtrace record -o FILE`",
		       "failed to read recording %s: not a memtrace recording (bad magic at offset 0)", name);
		return -EBADMSG;
	}
	if (n < sizeof(hdr)) {
		mt_err(NULL, "failed to read recording %s: header cut short at offset %zu", name, n);
		return -EBADMSG;
	}
	memcpy(&version, hdr + 8, 4);
	memcpy(&flags, hdr + 12, 4);
	if (version != REC_VERSION) {
		mt_err(version > REC_VERSION ? "it was written by a newer memtrace" : NULL,
		       "failed to read recording %s: format version %u at offset 8, this memtrace reads %u",
		       name, version, REC_VERSION);
		return -EBADMSG;
	}
	if (flags) {
		mt_err("it was written by a newer memtrace",
		       "failed to read recording %s: unknown flags 0x%x at offset 12", name, flags);
		return -EBADMSG;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->f = f;
	(*out)->name = xstrdup(name);
	(*out)->off = sizeof(hdr);
	return 0;
}

static int corrupt(struct rec_reader *r, const char *what, uint64_t at)
{
	mt_err("the file was damaged after it was written",
	       "failed to read recording %s: corrupt %s at offset %" PRIu64, r->name, what, at);
	return -EBADMSG;
}

/* 1 when a block was read, 0 at a clean end or a cut tail, -EBADMSG when corrupt. */
static int read_block(struct rec_reader *r)
{
	uint32_t hdr[3];
	size_t n = fread(hdr, 1, sizeof(hdr), r->f);
	uLongf raw_len;

	if (!n)
		return 0;
	r->block_off = r->off;
	if (n < sizeof(hdr)) {
		r->truncated = r->off;
		return 0;
	}
	/* deflate shrinks by at most ~1032:1: a larger claim is damage, and not worth allocating */
	if (!hdr[0] || hdr[0] > REC_BLOCK_MAX || hdr[1] > REC_BLOCK_MAX ||
	    hdr[1] > (uint64_t)hdr[0] * 1032 + 64)
		return corrupt(r, "block header", r->off);
	xgrow(&r->z, &r->zcap, hdr[0], 1);
	if (fread(r->z, 1, hdr[0], r->f) < hdr[0]) {
		r->truncated = r->off;
		return 0;
	}
	if (crc32(0, r->z, hdr[0]) != hdr[2])
		return corrupt(r, "block (crc32 mismatch)", r->off);
	xgrow(&r->raw, &r->rawcap, (size_t)hdr[1] + 1, 1);
	raw_len = hdr[1];
	if (uncompress(r->raw, &raw_len, r->z, hdr[0]) != Z_OK || raw_len != hdr[1])
		return corrupt(r, "block (does not inflate to its length)", r->off);
	r->raw_len = raw_len;
	r->pos = 0;
	r->off += sizeof(hdr) + hdr[0];
	return 1;
}

static bool decode_event(struct rec_reader *r, struct cursor *c, struct rec_record *rec)
{
	size_t n = c->left;

	if (n < MT_EVENT_HDR_SIZE || n > sizeof(r->ev) || (n - MT_EVENT_HDR_SIZE) % 8)
		return false;
	memset(&r->ev, 0, sizeof(r->ev));
	memcpy(&r->ev, take(c, n), n);
	rec->event = &r->ev;
	return r->ev.nframes == (n - MT_EVENT_HDR_SIZE) / 8;
}

static bool decode_proc(struct cursor *c, struct rec_proc *p)
{
	const void *comm;

	p->pid = get_u32(c);
	p->exited = get_u32(c) != 0;
	comm = take(c, sizeof(p->comm));
	if (comm)
		memcpy(p->comm, comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = 0;
	p->cmdline = get_str(c);
	return !c->bad;
}

static bool decode_maps(struct rec_reader *r, struct cursor *c, struct rec_maps *m)
{
	uint32_t n;

	m->pid = get_u32(c);
	n = get_u32(c);
	if (c->bad || n > c->left / (5 * 8 + 2 * 4))	/* each entry takes at least that much */
		return false;
	xgrow(&r->maps, &r->mapscap, n, sizeof(*r->maps));
	for (uint32_t i = 0; i < n; i++) {
		struct rec_map *e = &r->maps[i];

		e->start = get_u64(c);
		e->end = get_u64(c);
		e->offset = get_u64(c);
		e->dev = get_u64(c);
		e->inode = get_u64(c);
		e->path = get_str(c);
		e->build_id = get_str(c);
		if (!e->path)
			return false;
	}
	m->n = n;
	m->maps = r->maps;
	return !c->bad;
}

static bool decode_symbol(struct cursor *c, struct rec_symbol *s)
{
	s->pid = get_u32(c);
	s->line = (int32_t)get_u32(c);
	s->addr = get_u64(c);
	s->module_offset = get_u64(c);
	s->mapping = get_u32(c);
	s->function = get_str(c);
	s->file = get_str(c);
	return !c->bad;
}

static bool decode_mapping(struct cursor *c, struct rec_mapping *m)
{
	m->id = get_u32(c);
	m->start = get_u64(c);
	m->end = get_u64(c);
	m->file_offset = get_u64(c);
	m->path = get_str(c);
	m->build_id = get_str(c);
	return m->path && !c->bad;
}

static bool decode_unwind(struct cursor *c, struct mt_unwind_stats *u)
{
	u->mode = get_str(c);
	u->objects = get_u32(c);
	u->fp_objects = get_u32(c);
	u->failed_objects = get_u32(c);
	u->rows = get_u64(c);
	u->bytes = get_u64(c);
	u->peak_bytes = get_u64(c);
	u->load_ns = get_u64(c);
	return !c->bad;
}

static bool decode_clock(struct cursor *c, struct rec_clock *k)
{
	uint32_t n;

	memset(k, 0, sizeof(*k));
	k->now_ns = get_u64(c);
	n = get_u32(c);
	/* A newer writer may count more kinds of loss: keep the ones this memtrace knows. */
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		uint64_t v = get_u64(c);

		if (i < MT_LOSS__COUNT)
			k->loss[i] = v;
	}
	return !c->bad;
}

static bool decode(struct rec_reader *r, struct cursor *c, struct rec_record *rec)
{
	switch (rec->type) {
	case REC_START:
		rec->start_ns = get_u64(c);
		return !c->bad;
	case REC_EVENT:
		return decode_event(r, c, rec);
	case REC_PROC:
		return decode_proc(c, &rec->proc);
	case REC_MAPS:
		return decode_maps(r, c, &rec->maps);
	case REC_SYMBOL:
		return decode_symbol(c, &rec->symbol);
	case REC_MAPPING:
		return decode_mapping(c, &rec->mapping);
	case REC_UNWIND:
		return decode_unwind(c, &rec->unwind);
	case REC_CLOCK:
	case REC_END:
		return decode_clock(c, &rec->clock);
	default:
		return true;	/* unknown types are skipped: see rec_reader__next() */
	}
}

int rec_reader__next(struct rec_reader *r, struct rec_record *rec)
{
	for (;;) {
		struct cursor c;
		uint32_t hdr[2];
		size_t at = r->pos;
		int err;

		if (r->pos >= r->raw_len) {
			err = read_block(r);
			if (err <= 0)
				return err;
			continue;
		}
		if (r->raw_len - at < REC_HDR)
			return corrupt(r, "record header in block", r->block_off);
		memcpy(hdr, r->raw + at, sizeof(hdr));
		if (hdr[1] > r->raw_len - at - REC_HDR)
			return corrupt(r, "record length in block", r->block_off);
		r->pos = at + REC_HDR + hdr[1];
		/* A type this version does not know came from a newer writer: skip it, as it said how long. */
		if (hdr[0] == 0 || hdr[0] >= REC__COUNT)
			continue;
		memset(rec, 0, sizeof(*rec));
		rec->type = (enum rec_type)hdr[0];
		c = (struct cursor){ r->raw + at + REC_HDR, hdr[1], false };
		if (!decode(r, &c, rec)) {
			mt_err("the file was damaged after it was written",
			       "failed to read recording %s: corrupt record (type %u) at byte %zu of the block at offset %" PRIu64,
			       r->name, hdr[0], at, r->block_off);
			return -EBADMSG;
		}
		return 1;
	}
}

uint64_t rec_reader__truncated(const struct rec_reader *r) { return r->truncated; }
uint64_t rec_reader__offset(const struct rec_reader *r) { return r->off; }

void rec_reader__free(struct rec_reader *r)
{
	if (!r)
		return;
	free(r->z);
	free(r->raw);
	free(r->maps);
	free(r->name);
	free(r);
}

bool recording__sniff(FILE *f)
{
	char magic[8];
	bool yes = fread(magic, 1, sizeof(magic), f) == sizeof(magic) && !memcmp(magic, REC_MAGIC, 8);

	rewind(f);
	return yes;
}
