// SPDX-License-Identifier: BSD-2-Clause
/*
 * memtrace report: a recording read back. Events go through model__apply() exactly as the live
 * session applied them, in the same order, and the symbolizer is fed the recorded mappings and
 * symbols instead of /proc, so the snapshot -- and every output -- is the one the live run made.
 * Needs no root, no BPF and (with symbols recorded) not even the traced binaries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model.h"
#include "lib/htab.h"
#include "session/output.h"
#include "record/recording.h"
#include "session/replay.h"
#include "symbolize/snapshot_build.h"
#include "lib/util.h"

/* The last mapping list recorded for a process: the one the live symbolizer ended with. */
struct saved_maps {
	uint32_t pid;
	struct pmap *maps;
	char **build_ids;
	size_t n;
};

struct replay {
	struct model *m;		/* REC_SAMPLE added back to its series in order; its faults'
					 * files named by REC_FAULT_FILE */
	struct symbolizer *sym;
	struct mt_snapshot *snap;
	char *unwind_mode;		/* the snapshot's unwind.mode points here */
	struct snapshot_py *pys;	/* REC_PYTHON, the last of each pid; the snapshot points here */
	size_t npys, cap_pys;
};

struct loader {
	struct replay *r;
	struct snapshot_meta meta;
	bool have_start, have_end;
	uint64_t last_ns;		/* latest clock or event time: the end of a cut recording */
	uint64_t events;
	struct saved_maps *maps;
	size_t nmaps, cap_maps;
	struct htab *maps_of;		/* pid + 1 -> index into maps */
	struct htab *has_symbols;	/* pid + 1 of each process with symbol records */
	struct htab *mappings;		/* REC_MAPPING id + 1 -> const struct mt_mapping * */
};

/*
 * A progress line on a terminal, for a file that takes more than a second to read (the delay is
 * MEMTRACE_PROGRESS_AFTER_MS, for tests): how much is read, of how much, and how fast. Looked at
 * once a block (about 1 MiB of records), redrawn twice a second, erased at the end.
 */
struct progress {
	const char *name;
	uint64_t size, start_ns, next_ns, last_off;
	bool on, shown;
};

static void progress_start(struct progress *p, FILE *f, const char *name)
{
	const char *after = getenv("MEMTRACE_PROGRESS_AFTER_MS");
	struct stat st;

	*p = (struct progress){ .name = name, .start_ns = mt_now_ns() };
	p->next_ns = p->start_ns + (after ? strtoull(after, NULL, 10) * 1000000 : 1000000000ull);
	p->on = isatty(STDERR_FILENO) && !fstat(fileno(f), &st) && S_ISREG(st.st_mode);
	p->size = p->on ? (uint64_t)st.st_size : 0;
}

static void progress_tick(struct progress *p, uint64_t off, uint64_t events)
{
	char done[16], size[16];
	uint64_t now;
	double s;

	if (!p->on || off == p->last_off)
		return;
	p->last_off = off;
	now = mt_now_ns();
	if (now < p->next_ns)
		return;
	p->next_ns = now + 500000000ull;
	s = (double)(now - p->start_ns) / 1e9;
	fprintf(stderr, "\rmemtrace: reading %s: %s of %s (%.0f%%), %.1f M events/s\033[K", p->name,
		mt_fmt_bytes(off, done), mt_fmt_bytes(p->size, size),
		p->size ? 100.0 * (double)off / (double)p->size : 0.0, s > 0 ? (double)events / s / 1e6 : 0.0);
	p->shown = true;
}

static void progress_end(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);	/* the line goes: the warnings and report take its place */
}

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static void saved_maps_release(struct saved_maps *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->maps[i].path);
		free(m->build_ids[i]);
	}
	free(m->maps);
	free(m->build_ids);
}

static void keep_maps(struct loader *l, const struct rec_maps *rm)
{
	bool existed;
	uint32_t *i = htab__insert(l->maps_of, (uint64_t)rm->pid + 1, &existed);
	struct saved_maps *m;

	if (!existed) {
		xgrow(&l->maps, &l->cap_maps, l->nmaps + 1, sizeof(*l->maps));
		*i = (uint32_t)l->nmaps++;
	}
	m = &l->maps[*i];
	saved_maps_release(m);
	m->pid = rm->pid;
	m->n = rm->n;
	m->maps = xcalloc(rm->n, sizeof(*m->maps));
	m->build_ids = xcalloc(rm->n, sizeof(*m->build_ids));
	for (size_t k = 0; k < rm->n; k++) {
		const struct rec_map *e = &rm->maps[k];

		m->maps[k] = (struct pmap){ .start = e->start, .end = e->end, .offset = e->offset,
					    .dev = e->dev, .inode = e->inode, .path = xstrdup(e->path) };
		m->build_ids[k] = dup_or_null(e->build_id);
	}
}

static void apply_proc(struct loader *l, const struct rec_proc *rp)
{
	struct proc *p = procs__get(l->r->m->procs, rp->pid);

	agg__proc(l->r->m->agg, rp->pid);	/* in the report, as in the live run */
	memcpy(p->comm, rp->comm, sizeof(p->comm));
	free(p->cmdline);
	p->cmdline = dup_or_null(rp->cmdline);
	p->exited = rp->exited;
}

static void apply_labels(struct loader *l, const struct rec_labels *rl)
{
	struct proc_labels labels = { dup_or_null(rl->exe), dup_or_null(rl->cgroup),
				      dup_or_null(rl->container_id), dup_or_null(rl->service_name) };

	procs__set_labels(procs__get(l->r->m->procs, rl->pid), &labels, true);
}

static void apply_mapping(struct loader *l, const struct rec_mapping *rm)
{
	struct mt_mapping m = { rm->start, rm->end, rm->file_offset, rm->path, rm->build_id };

	*(const struct mt_mapping **)htab__insert(l->mappings, (uint64_t)rm->id + 1, NULL) =
		sym__keep_mapping(l->r->sym, &m);
}

static void apply_symbol(struct loader *l, const struct rec_symbol *s)
{
	const struct mt_mapping **m = htab__lookup(l->mappings, (uint64_t)s->mapping + 1);
	struct mt_frame f = { .addr = s->addr, .module_offset = s->module_offset,
			      .function = s->function, .file = s->file, .line = s->line,
			      .mapping = m ? *m : NULL };

	if (!m && s->mapping != REC_NO_MAPPING)
		mt_debug("symbol of 0x%llx refers to mapping %u, never defined",
			 (unsigned long long)s->addr, s->mapping);
	sym__preload(l->r->sym, (int)s->pid, &f, 1);
	htab__insert(l->has_symbols, (uint64_t)s->pid + 1, NULL);
}

/* An address of inlined calls: all its frames, in place of its REC_SYMBOL's one. */
static void apply_frames(struct loader *l, const struct rec_frames *rf)
{
	const struct mt_mapping **m = htab__lookup(l->mappings, (uint64_t)rf->mapping + 1);
	struct mt_frame *f = xcalloc(rf->n, sizeof(*f));

	for (uint32_t i = 0; i < rf->n; i++)
		f[i] = (struct mt_frame){ .addr = rf->addr, .module_offset = rf->module_offset,
					  .function = rf->frames[i].function, .file = rf->frames[i].file,
					  .line = rf->frames[i].line, .mapping = m ? *m : NULL,
					  .inlined = rf->frames[i].inlined };
	sym__preload(l->r->sym, (int)rf->pid, f, rf->n);
	htab__insert(l->has_symbols, (uint64_t)rf->pid + 1, NULL);
	free(f);
}

static void py_info_release(struct mt_py_info *i)
{
	free((char *)i->version);
	free((char *)i->path);
	free((char *)i->frames);
	free((char *)i->why);
	free((char *)i->coverage);
}

static void apply_python(struct replay *r, const struct rec_python *rp)
{
	struct snapshot_py *p = NULL;

	for (size_t i = 0; i < r->npys && !p; i++)
		if (r->pys[i].pid == rp->pid)
			p = &r->pys[i];
	if (p) {
		py_info_release(&p->info);
	} else {
		xgrow(&r->pys, &r->cap_pys, r->npys + 1, sizeof(*r->pys));
		p = &r->pys[r->npys++];
	}
	p->pid = rp->pid;
	p->info = (struct mt_py_info){ dup_or_null(rp->info.version), dup_or_null(rp->info.path),
				       dup_or_null(rp->info.frames), dup_or_null(rp->info.why),
				       dup_or_null(rp->info.coverage), rp->info.complete };
}

static void apply_clock(struct loader *l, const struct rec_record *rec)
{
	if (rec->clock.now_ns > l->last_ns)
		l->last_ns = rec->clock.now_ns;
	memcpy(l->meta.loss, rec->clock.loss, sizeof(l->meta.loss));
	if (rec->type == REC_END) {
		l->meta.now_ns = rec->clock.now_ns;
		l->have_end = true;
	}
}

static void apply_event(struct loader *l, const struct mt_event *e, const struct agg_known *k)
{
	model__apply_known(l->r->m, e, k);	/* frames in place, hashed once a stack; blocks by place */
	if (e->ts_ns > l->last_ns)
		l->last_ns = e->ts_ns;
	l->events++;
}

/*
 * A run of events, each applied once the model has been told what it will touch: its block and
 * stack slots PREFETCH_FAR events ahead, the stack those name PREFETCH_NEAR ahead. Applying is
 * mostly waiting for memory (random blocks and stacks); a run lets the loads overlap.
 */
#define PREFETCH_FAR 8
#define PREFETCH_NEAR 4
static void prefetch_at(struct model *m, const struct rec_event *ev, size_t n, size_t i, bool near)
{
	if (i < n)
		model__prefetch(m, &ev[i].event, &ev[i].known, near);
}

static void apply_events(struct loader *l, const struct rec_event *ev, size_t n)
{
	struct model *m = l->r->m;

	for (size_t i = 0; i < PREFETCH_FAR; i++) {	/* the first ones' loads */
		prefetch_at(m, ev, n, i, false);
		if (i < PREFETCH_NEAR)
			prefetch_at(m, ev, n, i, true);
	}
	for (size_t i = 0; i < n; i++) {
		prefetch_at(m, ev, n, i + PREFETCH_FAR, false);
		prefetch_at(m, ev, n, i + PREFETCH_NEAR, true);
		apply_event(l, &ev[i].event, &ev[i].known);
	}
}

static void apply(struct loader *l, const struct rec_record *rec)
{
	switch (rec->type) {
	case REC_START:
		l->meta.start_ns = rec->start_ns;
		l->have_start = true;
		break;
	case REC_EVENT:
		apply_event(l, rec->event, rec->known);
		break;
	case REC_PROC:
		apply_proc(l, &rec->proc);
		break;
	case REC_LABELS:
		apply_labels(l, &rec->labels);
		break;
	case REC_MAPS:
		keep_maps(l, &rec->maps);
		break;
	case REC_SYMBOL:
		apply_symbol(l, &rec->symbol);
		break;
	case REC_FRAMES:
		apply_frames(l, &rec->frames);
		break;
	case REC_MAPPING:
		apply_mapping(l, &rec->mapping);
		break;
	case REC_UNWIND:
		free(l->r->unwind_mode);
		l->r->unwind_mode = dup_or_null(rec->unwind.mode);
		l->meta.unwind = rec->unwind;
		l->meta.unwind.mode = l->r->unwind_mode;
		break;
	case REC_PYTHON:
		apply_python(l->r, &rec->python);
		break;
	case REC_FAULT_FILE:
		resident__set_path(l->r->m->res, rec->fault_file.pid, rec->fault_file.start,
				   rec->fault_file.path);
		break;
	case REC_SAMPLE:
		series__add(l->r->m->series, rec->sample.pid, &rec->sample.x, rec->sample.hwm_bytes);
		break;
	case REC_CLOCK:
	case REC_END:
		apply_clock(l, rec);
		break;
	default:
		break;
	}
}

/* Mappings go in once all is read: only then is it known which processes lack symbols. */
static void install_maps(struct loader *l, bool open_local)
{
	for (size_t i = 0; i < l->nmaps; i++) {
		struct saved_maps *m = &l->maps[i];
		bool local = open_local && !htab__lookup(l->has_symbols, (uint64_t)m->pid + 1);

		sym__load_maps(l->r->sym, (int)m->pid, m->maps, m->n, (const char *const *)m->build_ids,
			       local);
	}
}

/* A cut recording still reports: say what it covers. */
static void say_partial(const struct loader *l, struct rec_reader *rd, const char *name)
{
	if (rec_reader__truncated(rd))
		mt_warn("recording %s is cut short at offset %llu: read its first %llu bytes (%llu events)",
			name, (unsigned long long)rec_reader__truncated(rd),
			(unsigned long long)rec_reader__offset(rd), (unsigned long long)l->events);
	else if (!l->have_end)
		mt_warn("recording %s has no end record (was memtrace killed?): read %llu bytes (%llu events)",
			name, (unsigned long long)rec_reader__offset(rd), (unsigned long long)l->events);
}

static void finish_meta(struct loader *l)
{
	if (!l->have_end)
		l->meta.now_ns = l->last_ns;
	if (!l->have_start)
		l->meta.start_ns = l->meta.now_ns;
	if (l->meta.now_ns < l->meta.start_ns)	/* only a damaged file: keep durations sane */
		l->meta.now_ns = l->meta.start_ns;
}

/* Events read at a time: enough for the prefetches to run ahead, few enough to stay in cache. */
#define REPLAY_BATCH 64

int replay__load(FILE *f, const char *name, unsigned how, struct replay **out)
{
	struct loader l = { .maps_of = htab__new(sizeof(uint32_t)), .has_symbols = htab__new(0),
			    .mappings = htab__new(sizeof(void *)) };
	struct rec_reader *rd = NULL;
	struct rec_record rec;
	struct rec_event *batch = xmalloc(REPLAY_BATCH * sizeof(*batch));
	struct progress pr;
	int err = rec_reader__open(f, name, &rd);

	l.r = xcalloc(1, sizeof(*l.r));
	l.r->m = model__new();
	l.r->sym = sym__new(l.r->m->procs);
	resident__offline(l.r->m->res);
	progress_start(&pr, f, name);
	pr.on = pr.on && !(how & REPLAY_QUIET);
	while (!err) {
		size_t n;

		if ((err = rec_reader__events(rd, batch, REPLAY_BATCH, &n)) || !n) {
			if (err || (err = rec_reader__next(rd, &rec)) <= 0)
				break;
			apply(&l, &rec);
			err = 0;
		}
		apply_events(&l, batch, n);
		progress_tick(&pr, rec_reader__offset(rd), l.events);
	}
	progress_end(&pr);
	free(batch);
	if (!err) {
		uint64_t t0 = mt_now_ns(), cpu0 = mt_cpu_ns();

		say_partial(&l, rd, name);
		agg__places_done(l.r->m->agg);	/* the reader's table of live blocks goes with it */
		install_maps(&l, how & REPLAY_OPEN_LOCAL);
		snapshot__settle(l.r->m, l.r->sym);	/* processes without symbols: their objects' */
		finish_meta(&l);
		l.meta.series = true;
		l.meta.faults = true;
		l.meta.py_recorded = l.r->pys;
		l.meta.npy_recorded = l.r->npys;
		l.r->snap = snapshot__build(l.r->m, l.r->sym, &l.meta);
		/* scripts/bench-symbolize reads this */
		mt_debug("symbolize: final snapshot in %.1f ms (cpu %.1f ms)", (mt_now_ns() - t0) / 1e6,
			 (mt_cpu_ns() - cpu0) / 1e6);
	}
	for (size_t i = 0; i < l.nmaps; i++)
		saved_maps_release(&l.maps[i]);
	free(l.maps);
	htab__free(l.maps_of);
	htab__free(l.has_symbols);
	htab__free(l.mappings);
	rec_reader__free(rd);
	if (err) {
		replay__free(l.r);
		return err;
	}
	*out = l.r;
	return 0;
}

int replay__open(const char *path, struct replay **out)
{
	FILE *f = fopen(path, "re");
	int err;

	if (!f) {
		err = -errno;
		mt_err(err == -ENOENT ? "check the path, or record one with `memtrace record -o FILE`" : NULL,
		       "failed to open recording %s: %s", path, strerror(-err));
		return err;
	}
	err = replay__load(f, path, REPLAY_OPEN_LOCAL, out);
	fclose(f);
	return err;
}

const struct mt_snapshot *replay__snapshot(const struct replay *r) { return r->snap; }

void replay__free(struct replay *r)
{
	if (!r)
		return;
	snapshot__free(r->snap);
	model__free(r->m);	/* after the snapshot (its file paths are the resident's), before
				 * the symbolizer, whose part of each process it gives back */
	sym__free(r->sym);
	free(r->unwind_mode);
	for (size_t i = 0; i < r->npys; i++)
		py_info_release(&r->pys[i].info);
	free(r->pys);
	free(r);
}

int replay__run(const struct env *env)
{
	struct replay *r;
	int rc;

	if (output__check_all(env))
		return MT_EXIT_FAIL;
	if (replay__open(env->record, &r))
		return MT_EXIT_DATA;
	rc = output__write_all(env, r->snap) ? MT_EXIT_FAIL : 0;
	replay__free(r);
	return rc;
}
