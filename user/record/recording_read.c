// SPDX-License-Identifier: BSD-2-Clause
/*
 * The recording file format, reader side: block by block, each checked (lengths, crc32,
 * decompressed size) before its records are decoded through a bounds-checked cursor. A file cut
 * short ends at its last whole block; anything inconsistent is corrupt and said with its offset.
 * The stack table is the reader's: events come out with their frames. Built to be fed hostile
 * bytes: tests/fuzz/fuzz_recording.c does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/util.h"
#include "record/codec.h"
#include "record/recording.h"

struct rec_reader {
	FILE *f;
	char *name;
	uint64_t off;		/* file offset of the next block */
	uint64_t block_off;	/* file offset of the block being read */
	uint64_t truncated;
	uint8_t *z, *raw;
	size_t zcap, rawcap, raw_len, pos;
	ZSTD_DCtx *zd;
	struct codec ctx;
	struct codec_in in;	/* the block's event columns */
	uint64_t *words;	/* the stack table: every stack's words, one after another */
	size_t nwords, cap_words;
	uint32_t *stack_at;	/* stack id -> where its words start; [n] is where the next would */
	size_t nstacks, cap_stacks;
	uint32_t tables;	/* times the stack table started over */
	struct rec_map *maps;
	size_t mapscap;
	struct rec_frame *frames;	/* REC_FRAMES' frames, until the next record */
	size_t framescap;
	struct rec_event ev;	/* rec_reader__next's event */
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

	if (n == REC_NO_STRING || c->bad)
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
	if (version < REC_VERSION_OLDEST || version > REC_VERSION) {
		mt_err(version > REC_VERSION ? "it was written by a newer memtrace" :
		       version == 1 ? "version 1 (zlib blocks, no stack table) is read by memtrace before "
				      "zstd recordings: report it with one, or record it again" : NULL,
		       "failed to read recording %s: format version %u at offset 8, this memtrace reads "
		       "%u to %u", name, version, REC_VERSION_OLDEST, REC_VERSION);
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
	(*out)->zd = ZSTD_createDCtx();
	if (!(*out)->zd)
		abort();	/* out of memory, as xmalloc */
	codec__init(&(*out)->ctx, false);
	(*out)->ctx.version = version;
	xgrow(&(*out)->stack_at, &(*out)->cap_stacks, 1, sizeof(*(*out)->stack_at));
	return 0;
}

static int corrupt(struct rec_reader *r, const char *what, uint64_t at)
{
	mt_err("the file was damaged after it was written",
	       "failed to read recording %s: corrupt %s at offset %" PRIu64, r->name, what, at);
	return -EBADMSG;
}

/*
 * A block's raw bytes: varint records length, varint column count, the columns' lengths, then
 * the records and the columns. Sets where the records are and where each column starts.
 */
static bool block_columns(struct rec_reader *r, size_t raw_len)
{
	uint64_t len, ncols, col[CODEC_COLUMNS];
	const uint8_t *p[CODEC_COLUMNS];
	size_t at = 0, k, n[CODEC_COLUMNS];

	if (!(k = codec__get_varint(r->raw, raw_len, &len)))
		return false;
	at += k;
	if (!(k = codec__get_varint(r->raw + at, raw_len - at, &ncols)) || ncols != CODEC_COLUMNS)
		return false;
	at += k;
	for (int i = 0; i < CODEC_COLUMNS; i++) {
		if (!(k = codec__get_varint(r->raw + at, raw_len - at, &col[i])))
			return false;
		at += k;
	}
	if (len > raw_len - at)
		return false;
	r->pos = at;
	r->raw_len = at + len;
	at += len;
	for (int i = 0; i < CODEC_COLUMNS; i++) {
		if (col[i] > raw_len - at)
			return false;
		p[i] = r->raw + at;
		n[i] = col[i];
		at += col[i];
	}
	codec__in_start(&r->in, p, n);
	return at == raw_len;
}

/* What a block's zstd frames (one for its records, one for each column) decompress to, or
 * UINT64_MAX when a frame is bad or does not say its size. */
static uint64_t frames_size(const uint8_t *z, size_t n)
{
	uint64_t sum = 0;

	while (n) {
		size_t k = ZSTD_findFrameCompressedSize(z, n);
		unsigned long long size = ZSTD_getFrameContentSize(z, n);

		if (ZSTD_isError(k) || size > REC_BLOCK_MAX)	/* the errors are larger */
			return UINT64_MAX;
		sum += size;
		z += k;
		n -= k;
	}
	return sum;
}

/* 1 when a block was read, 0 at a clean end or a cut tail, -EBADMSG when corrupt. */
static int read_block(struct rec_reader *r)
{
	uint32_t hdr[3];
	size_t n = fread(hdr, 1, sizeof(hdr), r->f), raw_len;

	if (!n)
		return 0;
	r->block_off = r->off;
	if (n < sizeof(hdr)) {
		r->truncated = r->off;
		return 0;
	}
	if (!hdr[0] || hdr[0] > REC_BLOCK_MAX || !hdr[1] || hdr[1] > REC_BLOCK_MAX)
		return corrupt(r, "block header", r->off);
	xreserve(&r->z, &r->zcap, hdr[0], 1);	/* written before read: not zeroed (page faults) */
	if (fread(r->z, 1, hdr[0], r->f) < hdr[0]) {
		r->truncated = r->off;
		return 0;
	}
	if (crc32(0, r->z, hdr[0]) != hdr[2])
		return corrupt(r, "block (crc32 mismatch)", r->off);
	/* frames say their sizes: ones that say another are damaged, and not worth allocating for */
	if (frames_size(r->z, hdr[0]) != hdr[1])
		return corrupt(r, "block (zstd frames of another size)", r->off);
	xreserve(&r->raw, &r->rawcap, (size_t)hdr[1] + 1, 1);
	raw_len = ZSTD_decompressDCtx(r->zd, r->raw, hdr[1], r->z, hdr[0]);
	if (ZSTD_isError(raw_len) || raw_len != hdr[1])
		return corrupt(r, "block (does not decompress to its length)", r->off);
	r->off += sizeof(hdr) + hdr[0];
	if (!block_columns(r, raw_len))
		return corrupt(r, "block (column lengths)", r->block_off);
	codec__block(&r->ctx);
	return 1;
}

/* A STACK record: the next id (or 0, which starts the table over), then its words coded as
 * recording.c's stack_word_diff() says. */
static bool decode_stack(struct rec_reader *r, struct cursor *c)
{
	uint64_t id, n, v;
	size_t k, prev_at = 0, prev_len = 0;

	if (!(k = codec__get_varint(c->p, c->left, &id)) || !take(c, k) ||
	    !(k = codec__get_varint(c->p, c->left, &n)) || !take(c, k))
		return false;
	if (id && id != r->nstacks)
		return false;
	if (!n || n > MT_MAX_FRAMES)
		return false;
	if (!id) {
		r->tables += r->nstacks > 0;
		r->nstacks = 0;
		r->nwords = 0;
	} else {
		prev_at = r->stack_at[id - 1];
		prev_len = r->stack_at[id] - prev_at;
	}
	xreserve(&r->words, &r->cap_words, r->nwords + n, sizeof(*r->words));
	for (size_t i = 0; i < n; i++) {
		uint64_t *p = r->words + r->nwords, pred = i ? p[i - 1] : 0;

		if (!(k = codec__get_varint(c->p, c->left, &v)) || !take(c, k))
			return false;
		if (id && i + prev_len >= n)
			pred = r->words[prev_at + i + prev_len - n];
		p[i] = pred + codec__unzigzag(v);
	}
	if (c->left)
		return false;
	r->nwords += n;
	xreserve(&r->stack_at, &r->cap_stacks, r->nstacks + 2, sizeof(*r->stack_at));
	r->stack_at[++r->nstacks] = (uint32_t)r->nwords;
	return true;
}

/*
 * An event record at p (it says its own end), its fields from the block's columns: the bytes it
 * took, or 0 when malformed, or -EBADMSG having said that it names a stack never defined.
 */
static ssize_t decode_event(struct rec_reader *r, const uint8_t *p, size_t n, struct rec_event *ev,
			    size_t at)
{
	uint32_t stack;
	size_t len;

	/* The decoder sets every byte of the header but nframes; the frames stay in the table. */
	len = codec__decode_event(&r->ctx, p, n, &r->in, (uint32_t)r->nstacks, &ev->event, &stack,
				  &ev->known.places);
	if (!len)
		return 0;
	if (len == CODEC_BAD_STACK) {
		mt_err("the file was damaged after it was written",
		       "failed to read recording %s: event at byte %zu of the block at offset %" PRIu64
		       " names stack %u, but the stack table holds %zu",
		       r->name, at, r->block_off, stack - 1, r->nstacks);
		return -EBADMSG;
	}
	ev->event.nframes = 0;
	ev->known.frames = NULL;
	if (stack) {
		uint32_t from = r->stack_at[stack - 1];

		ev->event.nframes = r->stack_at[stack] - from;
		ev->known.frames = r->words + from;	/* in place: copied out, they cost a sixth of a report */
	}
	ev->known.key = stack ? (uint64_t)r->tables << 32 | stack : 0;
	return (ssize_t)len;
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

static bool decode_frames(struct rec_reader *r, struct cursor *c, struct rec_frames *f)
{
	uint32_t n;

	f->pid = get_u32(c);
	f->mapping = get_u32(c);
	f->addr = get_u64(c);
	f->module_offset = get_u64(c);
	n = get_u32(c);
	if (c->bad || !n || n > c->left / (4 * 4))	/* each frame takes at least that much */
		return false;
	xgrow(&r->frames, &r->framescap, n, sizeof(*r->frames));
	for (uint32_t i = 0; i < n; i++) {
		struct rec_frame *e = &r->frames[i];

		e->line = (int32_t)get_u32(c);
		e->inlined = get_u32(c) & 1;
		e->function = get_str(c);
		e->file = get_str(c);
	}
	f->n = n;
	f->frames = r->frames;
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

static bool decode_python(struct cursor *c, struct rec_python *p)
{
	p->pid = get_u32(c);
	p->info.complete = get_u32(c) != 0;
	p->info.version = get_str(c);
	p->info.path = get_str(c);
	p->info.frames = get_str(c);
	p->info.why = get_str(c);
	p->info.coverage = get_str(c);
	return !c->bad;
}

static bool decode_sample(struct cursor *c, struct rec_sample *s)
{
	s->pid = get_u32(c);
	s->x.ts_ns = get_u64(c);
	s->x.rss_bytes = get_u64(c);
	s->x.heap_bytes = get_u64(c);
	s->x.mmap_bytes = get_u64(c);
	s->hwm_bytes = get_u64(c);
	return !c->bad;
}

static bool decode_fault_file(struct cursor *c, struct rec_fault_file *f)
{
	f->pid = get_u32(c);
	f->start = get_u64(c);
	f->path = get_str(c);
	return f->path && !c->bad;
}

static bool decode_labels(struct cursor *c, struct rec_labels *l)
{
	l->pid = get_u32(c);
	l->exe = get_str(c);
	l->cgroup = get_str(c);
	l->container_id = get_str(c);
	l->service_name = get_str(c);
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
	case REC_PROC:
		return decode_proc(c, &rec->proc);
	case REC_MAPS:
		return decode_maps(r, c, &rec->maps);
	case REC_SYMBOL:
		return decode_symbol(c, &rec->symbol);
	case REC_FRAMES:
		return decode_frames(r, c, &rec->frames);
	case REC_MAPPING:
		return decode_mapping(c, &rec->mapping);
	case REC_UNWIND:
		return decode_unwind(c, &rec->unwind);
	case REC_PYTHON:
		return decode_python(c, &rec->python);
	case REC_SAMPLE:
		return decode_sample(c, &rec->sample);
	case REC_FAULT_FILE:
		return decode_fault_file(c, &rec->fault_file);
	case REC_LABELS:
		return decode_labels(c, &rec->labels);
	case REC_CLOCK:
	case REC_END:
		return decode_clock(c, &rec->clock);
	default:
		return true;	/* unknown types are skipped: see rec_reader__next() */
	}
}

static int bad_record(struct rec_reader *r, uint64_t type, size_t at)
{
	mt_err("the file was damaged after it was written",
	       "failed to read recording %s: corrupt record (type %" PRIu64 ") at byte %zu of the block at offset %" PRIu64,
	       r->name, type, at, r->block_off);
	return -EBADMSG;
}

/*
 * The event record at r->pos, if that is one (the one record without a length): 1 read into ev,
 * 0 when the record there is something else (or the block has ended), or an error said.
 */
static int next_event(struct rec_reader *r, struct rec_event *ev)
{
	size_t at = r->pos, k1;
	uint64_t type;
	ssize_t len;

	if (at >= r->raw_len)
		return 0;
	k1 = codec__get_varint(r->raw + at, r->raw_len - at, &type);
	if (!k1 || type != REC_EVENT)
		return 0;
	len = decode_event(r, r->raw + at + k1, r->raw_len - at - k1, ev, at);
	if (len <= 0)
		return len < 0 ? (int)len : bad_record(r, type, at);
	r->pos = at + k1 + (size_t)len;
	return 1;
}

int rec_reader__next(struct rec_reader *r, struct rec_record *rec)
{
	for (;;) {
		struct cursor c;
		uint64_t type, len;
		size_t at = r->pos, k1, k2;
		int err;

		if (r->pos >= r->raw_len) {
			err = read_block(r);
			if (err <= 0)
				return err;
			continue;
		}
		err = next_event(r, &r->ev);
		if (err > 0) {
			memset(rec, 0, sizeof(*rec));
			rec->type = REC_EVENT;
			rec->event = &r->ev.event;
			rec->known = &r->ev.known;
		}
		if (err)
			return err;
		k1 = codec__get_varint(r->raw + at, r->raw_len - at, &type);
		k2 = k1 ? codec__get_varint(r->raw + at + k1, r->raw_len - at - k1, &len) : 0;
		if (!k2)
			return corrupt(r, "record header in block", r->block_off);
		if (len > r->raw_len - at - k1 - k2)
			return corrupt(r, "record length in block", r->block_off);
		r->pos = at + k1 + k2 + len;
		c = (struct cursor){ r->raw + at + k1 + k2, len, false };
		if (type == REC_STACK) {
			if (!decode_stack(r, &c))
				return bad_record(r, type, at);
			continue;
		}
		/* A type this version does not know came from a newer writer: skip it, as it said how long. */
		if (type == 0 || type >= REC__COUNT)
			continue;
		memset(rec, 0, sizeof(*rec));
		rec->type = (enum rec_type)type;
		if (!decode(r, &c, rec))
			return bad_record(r, type, at);
		return 1;
	}
}

int rec_reader__events(struct rec_reader *r, struct rec_event *out, size_t max, size_t *n)
{
	int got = 0;

	/* anything else, a new block included, is rec_reader__next's (an error it says) */
	for (*n = 0; *n < max && (got = next_event(r, &out[*n])) > 0; (*n)++)
		;
	return *n < max && got < 0 ? got : 0;
}

uint64_t rec_reader__truncated(const struct rec_reader *r) { return r->truncated; }
uint64_t rec_reader__offset(const struct rec_reader *r) { return r->off; }

void rec_reader__free(struct rec_reader *r)
{
	if (!r)
		return;
	free(r->z);
	free(r->raw);
	ZSTD_freeDCtx(r->zd);
	codec__free(&r->ctx);
	free(r->words);
	free(r->stack_at);
	free(r->maps);
	free(r->frames);
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
