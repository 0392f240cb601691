// SPDX-License-Identifier: BSD-2-Clause
/*
 * memtrace record: the session's side of a recording. Record raw, resolve late -- but not too
 * late: the binaries may be gone when the recording is read, so the symbols of every address
 * seen are written while they can be resolved (at each process's exit stop, and at the end).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "symbolize/pytrace.h"
#include "record/recorder.h"
#include "record/recording.h"
#include "model/resident.h"
#include "model/model.h"
#include "lib/util.h"

struct recorder {
	struct rec_writer *w;
	char *path;
	uint64_t last_flush_ns;
	struct htab *pid_index;		/* pid + 1 -> index into written[] */
	struct htab **written;		/* per pid: address + 1 of each symbol written */
	size_t npids, cap_pids;
	struct htab *mapping_ids;	/* struct mt_mapping pointer -> its REC_MAPPING id + 1 */
	uint64_t symbols;
	const struct pytrace *py;	/* names Python frames; NULL: none are traced */
	const struct resident *res;	/* page faults; NULL: not traced */
	struct htab *fault_files;	/* hash(pid, start) -> struct fault_file: the last path written */
};

struct fault_file {
	uint32_t pid;
	uint64_t start, path_hash;
};

static void on_maps(void *ctx, int pid, const struct pmap *maps, size_t n,
		    const char *const *build_ids)
{
	struct recorder *r = ctx;
	struct rec_map *rm = xcalloc(n, sizeof(*rm));

	for (size_t i = 0; i < n; i++)
		rm[i] = (struct rec_map){ maps[i].start, maps[i].end, maps[i].offset, maps[i].dev,
					  maps[i].inode, maps[i].path, build_ids[i] };
	rec_writer__maps(r->w, &(struct rec_maps){ (uint32_t)pid, n, rm });
	free(rm);
}

int recorder__open(const char *path, struct symbolizer *sym, struct recorder **out)
{
	struct rec_writer *w;
	int err = rec_writer__create(path, &w);

	if (err)
		return err;
	*out = xcalloc(1, sizeof(**out));
	(*out)->w = w;
	(*out)->path = xstrdup(path);
	(*out)->last_flush_ns = mt_now_ns();
	(*out)->pid_index = htab__new(sizeof(uint32_t));
	(*out)->mapping_ids = htab__new(sizeof(uint32_t));
	(*out)->fault_files = htab__new(sizeof(struct fault_file));
	sym__on_maps(sym, on_maps, *out);
	return 0;
}

void recorder__process(struct recorder *r, const struct proc *p)
{
	struct rec_proc rp = { .pid = p->pid, .exited = p->exited, .cmdline = p->cmdline };
	const struct mt_py_info *info;

	if (!r)
		return;
	memcpy(rp.comm, p->comm, sizeof(rp.comm));
	rec_writer__proc(r->w, &rp);
	if (p->labels.exe || p->labels.cgroup || p->labels.service_name)
		rec_writer__labels(r->w, &(struct rec_labels){ p->pid, p->labels.exe, p->labels.cgroup,
							       p->labels.container_id,
							       p->labels.service_name });
	info = r->py ? pytrace__info(r->py, p->pid) : NULL;
	if (info)
		rec_writer__python(r->w, &(struct rec_python){ p->pid, *info });
}

static void on_sample(void *ctx, uint32_t pid, const struct mt_sample *x, uint64_t hwm_bytes)
{
	struct recorder *r = ctx;

	rec_writer__sample(r->w, &(struct rec_sample){ pid, *x, hwm_bytes });
}

void recorder__series(struct recorder *r, struct series *series)
{
	if (r)
		series__on_sample(series, on_sample, r);
}

/* A file fault's path, written when it is not the one last written for that mapping start. */
static void on_fault_path(void *ctx, uint32_t pid, uint64_t start, const char *path)
{
	struct recorder *r = ctx;
	uint64_t key = mt_hash(&start, sizeof(start), pid) | 1, path_hash = mt_hash(path, strlen(path), 0);
	bool existed;
	struct fault_file *f = htab__insert(r->fault_files, key, &existed);

	if (existed && f->pid == pid && f->start == start && f->path_hash == path_hash)
		return;
	*f = (struct fault_file){ pid, start, path_hash };	/* a colliding key: rewritten, harmless */
	rec_writer__fault_file(r->w, &(struct rec_fault_file){ pid, start, path });
}

void recorder__resident(struct recorder *r, struct resident *res)
{
	if (!r)
		return;
	r->res = res;
	resident__on_path(res, on_fault_path, r);
}

void recorder__python(struct recorder *r, const struct pytrace *py)
{
	if (r)
		r->py = py;
}

/* Each process of the model in its order: replay creates processes in the order it first
 * reads of them, as the live trace did. */
static void all_processes(struct recorder *r, const struct model *m)
{
	for (size_t i = 0; i < procs__n(m->procs); i++) {
		const struct proc *p = procs__at(m->procs, i);

		if (p->part[PROC_AGG])
			recorder__process(r, p);
	}
}

void recorder__start(struct recorder *r, const struct model *m, uint64_t start_ns)
{
	if (!r)
		return;
	rec_writer__start(r->w, start_ns);
	all_processes(r, m);
}

void recorder__event(struct recorder *r, const struct mt_event *e)
{
	if (r)
		rec_writer__event(r->w, e);
}

/* The set of addresses of pid already written. */
static struct htab *written(struct recorder *r, uint32_t pid)
{
	bool existed;
	uint32_t *i = htab__insert(r->pid_index, (uint64_t)pid + 1, &existed);

	if (!existed) {
		xgrow(&r->written, &r->cap_pids, r->npids + 1, sizeof(*r->written));
		r->written[r->npids] = htab__new(0);
		*i = (uint32_t)r->npids++;
	}
	return r->written[*i];
}

/* The live symbolizer makes one mt_mapping per mapping read, so the pointer is its identity. */
static uint32_t mapping_id(struct recorder *r, const struct mt_mapping *m)
{
	bool existed;
	uint32_t *id;

	if (!m)
		return REC_NO_MAPPING;
	id = htab__insert(r->mapping_ids, (uint64_t)(uintptr_t)m, &existed);
	if (!existed) {
		*id = (uint32_t)htab__count(r->mapping_ids);
		rec_writer__mapping(r->w, &(struct rec_mapping){ *id - 1, m->start, m->end,
								   m->file_offset, m->path, m->build_id });
	}
	return *id - 1;
}

/* A name as its object spells it: the recording keeps those, and a replay demangles. */
static const char *raw_name(const struct mt_frame *f)
{
	return f->mangled ? f->mangled : f->function;
}

/*
 * The frames of an address: REC_SYMBOL for the outermost (the only one, mostly), and REC_FRAMES
 * for all of them when calls were inlined there.
 */
static void write_frames(struct recorder *r, uint32_t pid, uint64_t addr, const struct mt_frame *fr,
			 uint32_t n)
{
	const struct mt_frame *out = &fr[n - 1];
	uint32_t mapping = mapping_id(r, out->mapping);
	struct rec_frame *rf;

	rec_writer__symbol(r->w, &(struct rec_symbol){ pid, out->line, addr, out->module_offset,
							mapping, raw_name(out), out->file });
	r->symbols++;
	if (n == 1)
		return;
	rf = xcalloc(n, sizeof(*rf));
	for (uint32_t i = 0; i < n; i++)
		rf[i] = (struct rec_frame){ fr[i].line, fr[i].inlined, raw_name(&fr[i]), fr[i].file };
	rec_writer__frames(r->w, &(struct rec_frames){ pid, mapping, addr, out->module_offset, n, rf });
	free(rf);
}

/*
 * Each (pid, address) of a stack not yet written, resolved as the snapshot will look it up: a
 * page fault's first frame is an instruction pointer, looked up one byte on (snapshot_build.c).
 * An address whose object's debug info is still being fetched waits for the end.
 */
static void stack_symbols(struct recorder *r, uint32_t pid, const uint64_t *frames, uint32_t n,
			  bool first_is_ip, struct symbolizer *sym)
{
	struct htab *done = written(r, pid);
	struct mt_frame one, *fr = NULL;
	uint32_t cap = 0;

	for (uint32_t f = 0; f < n; f++) {
		uint64_t addr = frames[f] + (first_is_ip && f == 0);
		uint32_t k;

		if (frames[f] == UINT64_MAX)		/* in no mapping: replay resolves it alike */
			continue;
		if (htab__lookup(done, addr + 1))
			continue;
		if (mt_py_is_frame(addr)) {
			if (!r->py)
				continue;
			/* by code id, which only this session's Python tracer knows */
			pytrace__resolve(r->py, addr, &one);
			htab__insert(done, addr + 1, NULL);
			write_frames(r, pid, addr, &one, 1);
			continue;
		}
		if (sym__pending(sym, (int)pid, addr))
			continue;
		k = sym__resolve(sym, (int)pid, addr, &one, 1);
		if (k > cap) {
			free(fr);
			fr = xcalloc(cap = k, sizeof(*fr));
		}
		if (k > 1)
			sym__resolve(sym, (int)pid, addr, fr, k);
		htab__insert(done, addr + 1, NULL);
		write_frames(r, pid, addr, k > 1 ? fr : &one, k);
	}
	free(fr);
}

void recorder__symbols(struct recorder *r, const struct model *m, struct symbolizer *sym, int pid)
{
	const struct agg_proc *p = pid < 0 ? NULL : agg__find_proc(m->agg, (uint32_t)pid);

	if (!r)
		return;
	for (uint32_t id = 0; pid < 0 && id < agg__nstacks(m->agg); id++) {
		const struct agg_stack *st = agg__stack(m->agg, id);

		stack_symbols(r, st->pid, st->frames, st->nframes, false, sym);
	}
	for (size_t i = 0; p && i < p->nstack_ids; i++) {
		const struct agg_stack *st = agg__stack(m->agg, p->stack_ids[i]);

		stack_symbols(r, st->pid, st->frames, st->nframes, false, sym);
	}
	for (size_t i = 0; r->res && i < resident__nstacks(r->res); i++) {
		uint32_t spid, n;
		const uint64_t *frames = resident__stack(r->res, i, &spid, &n);

		if (pid < 0 || spid == (uint32_t)pid)
			stack_symbols(r, spid, frames, n, true, sym);
	}
}

bool recorder__due(const struct recorder *r)
{
	return r && mt_now_ns() - r->last_flush_ns >= 1000000000ull;
}

void recorder__tick(struct recorder *r, const uint64_t loss[MT_LOSS__COUNT])
{
	struct rec_clock c = { .now_ns = mt_now_ns() };

	if (!r)
		return;
	memcpy(c.loss, loss, sizeof(c.loss));
	rec_writer__clock(r->w, &c, false);
	rec_writer__flush(r->w);
	r->last_flush_ns = c.now_ns;
}

void recorder__finish(struct recorder *r, const struct model *m, struct symbolizer *sym,
		      const struct snapshot_meta *meta)
{
	struct rec_clock c = { .now_ns = meta->now_ns };

	if (!r)
		return;
	all_processes(r, m);
	recorder__symbols(r, m, sym, -1);
	memcpy(c.loss, meta->loss, sizeof(c.loss));
	rec_writer__unwind(r->w, &meta->unwind);
	rec_writer__clock(r->w, &c, true);	/* last: its presence says the file is whole */
}

int recorder__close(struct recorder *r)
{
	char size[16];
	int err;

	if (!r)
		return 0;
	err = rec_writer__flush(r->w);
	if (!err)
		fprintf(stderr, "memtrace: recorded %llu events and %llu symbols in %s (%s)\n",
			(unsigned long long)rec_writer__events(r->w), (unsigned long long)r->symbols,
			r->path, mt_fmt_bytes(rec_writer__bytes(r->w), size));
	err = rec_writer__close(r->w) ?: err;
	for (size_t i = 0; i < r->npids; i++)
		htab__free(r->written[i]);
	free(r->written);
	htab__free(r->pid_index);
	htab__free(r->mapping_ids);
	htab__free(r->fault_files);
	free(r->path);
	free(r);
	return err;
}
