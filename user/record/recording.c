// SPDX-License-Identifier: BSD-2-Clause
/*
 * The recording file format, writer side (the reader is recording_read.c): records packed into
 * independently compressed, checksummed blocks.
 *
 * Why blocks: a recording is written while the trace runs and may be cut short by a kill or a
 * crash. Each block is written with one write(2), so a killed writer leaves only whole blocks; a
 * reader decodes block by block, so memory stays bounded by the block size on either side, and a
 * bad block is found by its crc before zstd ever sees it. Records never span blocks.
 * Why raw events: the file keeps what the probes sent, and replay runs it through the same
 * aggregation code as a live trace, so every present and future report reads recordings for free.
 * Why a stack table: an hour of a service is hundreds of millions of events from a few thousand
 * call stacks. Each distinct stack is written once, in a STACK record, before the first event
 * that names it by id; an event record is then a few bytes (codec.c). The table's memory is the
 * distinct stacks', bounded: past REC_STACK_WORDS_MAX it starts over from id 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/htab.h"
#include "lib/util.h"
#include "record/codec.h"
#include "record/recording.h"

/* Integers are stored little-endian and events as the probes laid them out: both need this. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "recordings are little-endian");

struct rec_writer {
	int fd;
	char *path;
	uint8_t *raw;		/* records of the block being filled */
	size_t len, cap;
	size_t rec_at;		/* where the open record's payload starts */
	uint8_t *z;
	size_t zcap;
	ZSTD_CCtx *zc;
	struct codec ctx;	/* events are coded against those before them (codec.h) */
	struct codec_out cols;	/* the block's event columns */
	uint8_t *blk;		/* a block's raw bytes, put together to be compressed */
	size_t blkcap;
	struct htab *stack_ids;	/* hash of a stack's words -> its id + 1 */
	uint64_t *words;	/* every stack of the table, one after another */
	size_t nwords, cap_words;
	uint32_t *stack_at;	/* stack id -> where its words start; [n] is where the next would */
	size_t nstacks, cap_stacks;
	uint64_t bytes, events, stacks;
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

static void put_varint(struct rec_writer *w, uint64_t v)
{
	uint8_t b[CODEC_VARINT_MAX];

	put(w, b, codec__put_varint(b, v));
}

/* u32 length, the bytes, then a NUL the reader checks, so it can hand out pointers in place. */
static void put_str(struct rec_writer *w, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : REC_NO_STRING;

	put_u32(w, n);
	if (s)
		put(w, s, n + 1);
}

/* A record's header is its type and length as varints: two bytes for most. */
static void begin(struct rec_writer *w, enum rec_type type)
{
	put_varint(w, type);
	put(w, "", 1);		/* the length's first byte, made room for and patched by end() */
	w->rec_at = w->len;
}

static void end(struct rec_writer *w)
{
	size_t n = w->len - w->rec_at;
	uint8_t b[CODEC_VARINT_MAX];
	size_t k = codec__put_varint(b, n);

	if (k > 1) {		/* a long record: its payload moves up to make room */
		xgrow(&w->raw, &w->cap, w->len + k - 1, 1);
		memmove(w->raw + w->rec_at + k - 1, w->raw + w->rec_at, n);
		w->len += k - 1;
	}
	memcpy(w->raw + w->rec_at - 1, b, k);
	if (w->len + w->cols.total >= REC_BLOCK_TARGET)
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

_Static_assert(CODEC_VERSION == REC_VERSION, "the codec writes the file's version");

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
	w->zc = ZSTD_createCCtx();
	w->stack_ids = htab__new(sizeof(uint32_t));
	codec__init(&w->ctx, true);
	xgrow(&w->stack_at, &w->cap_stacks, 1, sizeof(*w->stack_at));
	if (!w->zc)
		abort();	/* out of memory, as xmalloc */
	*out = w;
	return 0;
}

void rec_writer__start(struct rec_writer *w, uint64_t start_ns)
{
	begin(w, REC_START);
	put_u64(w, start_ns);
	end(w);
}

/*
 * A STACK's words are coded as differences from a prediction: the word at the same distance
 * from the outer end of the stack defined just before (stacks share their outer frames: main,
 * the thread's start), else the word before it in this stack (a module's code is together).
 */
static uint64_t stack_word_diff(const struct rec_writer *w, uint32_t id, const uint64_t *p,
				uint32_t n, uint32_t i)
{
	uint64_t pred = i ? p[i - 1] : 0;

	if (id) {
		uint32_t at = w->stack_at[id - 1], len = w->stack_at[id] - at;

		if (i + len >= n)
			pred = w->words[at + i + len - n];
	}
	return codec__zigzag(p[i] - pred);
}

static void stacks_clear(struct rec_writer *w)
{
	htab__free(w->stack_ids);
	w->stack_ids = htab__new(sizeof(uint32_t));
	w->nwords = 0;
	w->nstacks = 0;
}

/*
 * The id + 1 of the stack of n words at p, written as a STACK record the first time it is seen.
 * A hash collision rehashes with the next seed rather than merging two stacks.
 */
static uint32_t stack_ref(struct rec_writer *w, const uint64_t *p, uint32_t n)
{
	for (uint64_t seed = 0;; seed++) {
		bool existed;
		uint32_t ref, *id = htab__insert(w->stack_ids, htab__hash_words(p, n, seed), &existed);

		if (existed) {
			uint32_t at = w->stack_at[*id - 1], len = w->stack_at[*id] - at;

			if (len == n && !memcmp(w->words + at, p, 8 * n))
				return *id;
			continue;
		}
		if (w->nwords + n > REC_STACK_WORDS_MAX) {	/* start the table over: see top */
			stacks_clear(w);
			return stack_ref(w, p, n);
		}
		ref = *id = (uint32_t)++w->nstacks;
		xgrow(&w->words, &w->cap_words, w->nwords + n, sizeof(*w->words));
		memcpy(w->words + w->nwords, p, 8 * n);
		w->nwords += n;
		xgrow(&w->stack_at, &w->cap_stacks, w->nstacks + 1, sizeof(*w->stack_at));
		w->stack_at[w->nstacks] = (uint32_t)w->nwords;
		begin(w, REC_STACK);
		put_varint(w, ref - 1);
		put_varint(w, n);
		for (uint32_t i = 0; i < n; i++)
			put_varint(w, stack_word_diff(w, ref - 1, p, n, i));
		end(w);		/* may flush: the event goes after it, in this block or the next */
		w->stacks++;
		return ref;
	}
}

void rec_writer__event(struct rec_writer *w, const struct mt_event *e)
{
	uint32_t n = e->nframes <= MT_MAX_FRAMES ? e->nframes : MT_MAX_FRAMES;
	uint32_t stack = 0;
	uint8_t rec[1 + CODEC_EVENT_MAX];
	size_t k;

	if (n)
		stack = stack_ref(w, (const uint64_t *)e->frames, n);
	/* An event record has no length: it is the one record that says its own end (codec.c).
	 * Its fields go to the block's columns, where the reader takes them in the records' order. */
	k = codec__encode_event(&w->ctx, e, stack, rec + 1, &w->cols);
	_Static_assert(REC_EVENT < 0x80, "an event's type is a byte");
	rec[0] = REC_EVENT;
	put(w, rec, 1 + k);
	w->events++;
	if (w->len + w->cols.total >= REC_BLOCK_TARGET)
		rec_writer__flush(w);
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

void rec_writer__frames(struct rec_writer *w, const struct rec_frames *f)
{
	begin(w, REC_FRAMES);
	put_u32(w, f->pid);
	put_u32(w, f->mapping);
	put_u64(w, f->addr);
	put_u64(w, f->module_offset);
	put_u32(w, f->n);
	for (uint32_t i = 0; i < f->n; i++) {
		put_u32(w, (uint32_t)f->frames[i].line);
		put_u32(w, f->frames[i].inlined);
		put_str(w, f->frames[i].function);
		put_str(w, f->frames[i].file);
	}
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

/*
 * A block's raw bytes: varint records length, varint column count, each column's length as a
 * varint, the records, then the columns one after another. end[i]: where part i ends (0: the
 * lengths and records, then each column).
 */
static size_t block_raw(struct rec_writer *w, size_t end[1 + CODEC_COLUMNS])
{
	size_t n = 0;

	xgrow(&w->blk, &w->blkcap, (2 + CODEC_COLUMNS) * CODEC_VARINT_MAX + w->len + w->cols.total, 1);
	n += codec__put_varint(w->blk + n, w->len);
	n += codec__put_varint(w->blk + n, CODEC_COLUMNS);
	for (int i = 0; i < CODEC_COLUMNS; i++)
		n += codec__put_varint(w->blk + n, w->cols.n[i]);
	memcpy(w->blk + n, w->raw, w->len);
	n += w->len;
	end[0] = n;
	for (int i = 0; i < CODEC_COLUMNS; i++) {
		if (w->cols.n[i])
			memcpy(w->blk + n, w->cols.p[i], w->cols.n[i]);
		n += w->cols.n[i];
		end[1 + i] = n;
	}
	return n;
}

int rec_writer__flush(struct rec_writer *w)
{
	size_t zlen = 0, raw_len, end[1 + CODEC_COLUMNS], from = 0;
	uint32_t hdr[3];
	int err;

	if (w->err || !w->len)
		return w->err;
	raw_len = block_raw(w, end);
	xgrow(&w->z, &w->zcap, REC_BLOCK_HEADER_SIZE + ZSTD_compressBound(raw_len) +
	      CODEC_COLUMNS * ZSTD_compressBound(0), 1);
	/*
	 * The drain loop compresses, and it must keep up with the probes. See REC_ZSTD_LEVEL in
	 * recording.h for what each level costs and gives. A frame for the records and one for
	 * each column: zstd codes the literals of a column with their own statistics. A small
	 * block (a quiet second's) is one frame: a frame's header would cost more than it saves.
	 */
	if (raw_len < REC_BLOCK_SPLIT) {
		for (int i = 0; i <= CODEC_COLUMNS; i++)
			end[i] = raw_len;
	}
	for (int i = 0; i <= CODEC_COLUMNS; from = end[i++]) {
		size_t k;

		if (end[i] == from && i)
			continue;
		k = ZSTD_compressCCtx(w->zc, w->z + REC_BLOCK_HEADER_SIZE + zlen,
				      w->zcap - REC_BLOCK_HEADER_SIZE - zlen, w->blk + from, end[i] - from,
				      REC_ZSTD_LEVEL);
		if (ZSTD_isError(k))
			abort();	/* only out of memory is possible with a big enough buffer */
		zlen += k;
	}
	hdr[0] = (uint32_t)zlen;
	hdr[1] = (uint32_t)raw_len;
	hdr[2] = (uint32_t)crc32(0, w->z + REC_BLOCK_HEADER_SIZE, (uInt)zlen);
	memcpy(w->z, hdr, sizeof(hdr));
	w->len = 0;
	codec__out_clear(&w->cols);
	codec__block(&w->ctx);	/* the next block's events decode without this one's */
	/* One write per block: a writer killed mid-way leaves whole blocks only. */
	err = write_all(w->fd, w->z, REC_BLOCK_HEADER_SIZE + zlen);
	if (err) {
		mt_err("is the disk full?", "failed to write recording %s: %s", w->path, strerror(-err));
		w->err = err;
		return err;
	}
	w->bytes += REC_BLOCK_HEADER_SIZE + zlen;
	return 0;
}

uint64_t rec_writer__bytes(const struct rec_writer *w) { return w->bytes; }
uint64_t rec_writer__events(const struct rec_writer *w) { return w->events; }
uint64_t rec_writer__stacks(const struct rec_writer *w) { return w->stacks; }

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
	free(w->blk);
	codec__free(&w->ctx);
	codec__out_free(&w->cols);
	ZSTD_freeCCtx(w->zc);
	htab__free(w->stack_ids);
	free(w->words);
	free(w->stack_at);
	free(w->path);
	free(w);
	return err;
}

void rec_writer__python(struct rec_writer *w, const struct rec_python *p)
{
	begin(w, REC_PYTHON);
	put_u32(w, p->pid);
	put_u32(w, p->info.complete);
	put_str(w, p->info.version);
	put_str(w, p->info.path);
	put_str(w, p->info.frames);
	put_str(w, p->info.why);
	put_str(w, p->info.coverage);
	end(w);
}

void rec_writer__sample(struct rec_writer *w, const struct rec_sample *s)
{
	begin(w, REC_SAMPLE);
	put_u32(w, s->pid);
	put_u64(w, s->x.ts_ns);
	put_u64(w, s->x.rss_bytes);
	put_u64(w, s->x.heap_bytes);
	put_u64(w, s->x.mmap_bytes);
	put_u64(w, s->hwm_bytes);
	end(w);
}

void rec_writer__labels(struct rec_writer *w, const struct rec_labels *l)
{
	begin(w, REC_LABELS);
	put_u32(w, l->pid);
	put_str(w, l->exe);
	put_str(w, l->cgroup);
	put_str(w, l->container_id);
	put_str(w, l->service_name);
	end(w);
}

void rec_writer__fault_file(struct rec_writer *w, const struct rec_fault_file *f)
{
	begin(w, REC_FAULT_FILE);
	put_u32(w, f->pid);
	put_u64(w, f->start);
	put_str(w, f->path);
	end(w);
}
