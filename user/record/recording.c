// SPDX-License-Identifier: BSD-2-Clause
/*
 * The recording file format, writer side (the reader is recording_read.c): records packed into
 * independently compressed, checksummed blocks.
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "record/recording.h"
#include "lib/util.h"

/* Integers are stored little-endian and events as the probes laid them out: both need this. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "recordings are little-endian");

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
	uint32_t n = s ? (uint32_t)strlen(s) : REC_NO_STRING;

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
	uint32_t n = (uint32_t)(w->len - w->rec_at - REC_RECORD_HEADER_SIZE);

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
