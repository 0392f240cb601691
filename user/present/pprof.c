// SPDX-License-Identifier: BSD-2-Clause
/* pprof's profile.proto, gzip-compressed: the heap profile `go tool pprof` and friends read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/intern.h"
#include "present/label.h"
#include "present/pprof.h"
#include "lib/util.h"

/* Field numbers of perftools.profiles (github.com/google/pprof, proto/profile.proto). */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9, PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12, PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
	LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3,
	MAPPING_ID = 1, MAPPING_START = 2, MAPPING_LIMIT = 3, MAPPING_OFFSET = 4,
	MAPPING_FILENAME = 5, MAPPING_BUILD_ID = 6, MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8, MAPPING_HAS_LINE_NUMBERS = 9,
	LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1, LINE_LINE = 2,
	FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4,
};

/*
 * Interned tuples: all uint64_t, so no padding bytes reach the hash. A location's key is its
 * mapping and address, then a function id and a line for each of its frames (several when calls
 * were inlined at the address), innermost first.
 */
struct fn_key { uint64_t name, system_name, file; };
struct map_key { uint64_t start, limit, offset, file, build_id; };
enum { LOC_MAPPING, LOC_ADDR, LOC_LINES };

enum { HAS_FUNCTIONS = 1, HAS_FILENAMES = 2, HAS_LINE_NUMBERS = 4 };

/* One stack's values at the base's moment, in Go's order; bases are sorted by stack id. */
struct base_stack {
	uint32_t id;
	uint64_t v[4];
};

struct pprof_base {
	uint64_t now_ns;
	size_t n;
	struct base_stack *stacks;
};

struct builder {
	struct pb *out;
	bool leaks;			/* --leak-check ran: lost_objects and lost_space too */
	struct intern *strings;		/* string table index = id - 1, so "" goes in first */
	struct intern *functions, *mappings, *locations;
	uint64_t *map_has;		/* HAS_* seen among a mapping's locations, by mapping id */
	size_t cap_map_has;
};

static uint64_t str(struct builder *b, const char *s)
{
	return intern__str(b->strings, s ? s : "") - 1;
}

static void value_type(struct builder *b, uint32_t field, const char *type, const char *unit)
{
	size_t m = pb__begin(b->out, field);

	pb__uint(b->out, VALUE_TYPE_TYPE, str(b, type));
	pb__uint(b->out, VALUE_TYPE_UNIT, str(b, unit));
	pb__end(b->out, m);
}

static void header(struct builder *b, const struct mt_snapshot *s, const struct pprof_opts *o)
{
	uint64_t from = o->base ? o->base->now_ns : s->start_ns;

	str(b, "");
	value_type(b, PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(b, PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(b, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(b, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	if (b->leaks) {	/* definitely and indirectly lost, as --folded-value lost */
		value_type(b, PROFILE_SAMPLE_TYPE, "lost_objects", "count");
		value_type(b, PROFILE_SAMPLE_TYPE, "lost_space", "bytes");
	}
	value_type(b, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb__uint(b->out, PROFILE_PERIOD, 1);	/* every allocation is counted: nothing to scale */
	if (o->time_ns)
		pb__uint(b->out, PROFILE_TIME_NANOS, o->time_ns);
	if (s->now_ns > from)
		pb__uint(b->out, PROFILE_DURATION_NANOS, s->now_ns - from);
	pb__uint(b->out, PROFILE_DEFAULT_SAMPLE_TYPE,
		 str(b, o->default_type ? o->default_type : "inuse_space"));
}

static uint64_t mapping_id(struct builder *b, const struct mt_mapping *m)
{
	struct map_key k;

	if (!m)
		return 0;
	k = (struct map_key){ m->start, m->end, m->file_offset, str(b, m->path),
			      m->build_id ? str(b, m->build_id) : 0 };
	return intern__id(b->mappings, &k, sizeof(k), NULL);
}

static uint64_t function_id(struct builder *b, const struct mt_frame *f)
{
	struct fn_key k;

	if (!f->function)
		return 0;
	/* system_name: as the object spells it (mangled), name as people read it (demangled) */
	k = (struct fn_key){ str(b, f->function), str(b, f->mangled ? f->mangled : f->function),
			     f->file ? str(b, f->file) : 0 };
	return intern__id(b->functions, &k, sizeof(k), NULL);
}

/* One address: its n frames (n > 1: calls inlined there), each a Line, innermost first. */
static uint64_t location_id(struct builder *b, const struct mt_frame *f, uint32_t n)
{
	uint64_t *k = xcalloc(LOC_LINES + 2 * (size_t)n, sizeof(*k)), has = 0, id;
	size_t len = LOC_LINES;

	k[LOC_MAPPING] = mapping_id(b, f->mapping);
	k[LOC_ADDR] = f->addr;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t fn = function_id(b, &f[i]);

		if (!fn)
			continue;
		k[len++] = fn;
		k[len++] = f[i].line > 0 ? (uint64_t)f[i].line : 0;
		has |= HAS_FUNCTIONS;
		has |= f[i].file ? HAS_FILENAMES : 0;
		has |= f[i].line > 0 ? HAS_LINE_NUMBERS : 0;
	}
	if (k[LOC_MAPPING]) {
		xgrow(&b->map_has, &b->cap_map_has, k[LOC_MAPPING] + 1, sizeof(*b->map_has));
		b->map_has[k[LOC_MAPPING]] |= has;
	}
	id = intern__id(b->locations, k, len * sizeof(*k), NULL);
	free(k);
	return id;
}

static void label(struct builder *b, const char *key, const char *s, uint64_t num)
{
	size_t m = pb__begin(b->out, SAMPLE_LABEL);

	pb__uint(b->out, LABEL_KEY, str(b, key));
	if (s)
		pb__uint(b->out, LABEL_STR, str(b, s));
	else
		pb__uint(b->out, LABEL_NUM, num);
	pb__end(b->out, m);
}

/* Labels fleets group by; the ones not known are left out rather than sent empty. */
static void proc_labels(struct builder *b, const struct mt_proc *p)
{
	const struct mt_labels *l = &p->labels;

	if (l->exe)
		label(b, "exe", l->exe, 0);
	if (l->cgroup)
		label(b, "cgroup", l->cgroup, 0);
	if (l->container_id)
		label(b, "container_id", l->container_id, 0);
	if (l->service_name)
		label(b, "service_name", l->service_name, 0);
}

static int by_base_id(const void *x, const void *y)
{
	uint32_t a = ((const struct base_stack *)x)->id, b = ((const struct base_stack *)y)->id;

	return a < b ? -1 : a > b;
}

/* Go's order of values: alloc_objects, alloc_space, inuse_objects, inuse_space. */
static void stack_values(const struct mt_stack *st, uint64_t v[4])
{
	v[0] = st->allocations;
	v[1] = st->allocated_bytes;
	v[2] = st->outstanding_allocations;
	v[3] = st->outstanding_bytes;
}

/* The stack's values, less the base's (a delta: negative for what was freed); false when all 0. */
static bool sample_values(const struct pprof_base *base, const struct mt_stack *st, uint64_t v[4])
{
	struct base_stack key = { .id = st->id };
	const struct base_stack *was;

	stack_values(st, v);
	if (!base)
		return true;
	was = bsearch(&key, base->stacks, base->n, sizeof(key), by_base_id);
	for (int i = 0; was && i < 4; i++)
		v[i] -= was->v[i];	/* two's complement: profile.proto's int64 */
	return v[0] || v[1] || v[2] || v[3];
}

static void sample(struct builder *b, const struct mt_proc *p, const struct mt_stack *st,
		   const struct pprof_base *base)
{
	uint64_t values[6];
	uint32_t i, j, n = 0;
	uint64_t *locs;
	size_t m;

	if (!sample_values(base, st, values))
		return;	/* a delta leaves out what did not change, as Go's does */
	/* --leak-check's two, as --folded-value lost; never a delta (checked once, at the end) */
	values[4] = st->leak[MT_LEAK_DEFINITE].blocks + st->leak[MT_LEAK_INDIRECT].blocks;
	values[5] = st->leak[MT_LEAK_DEFINITE].bytes + st->leak[MT_LEAK_INDIRECT].bytes;
	locs = xcalloc(st->nframes + 1, sizeof(*locs));
	/* pprof also wants the leaf first; an address's inlined frames go in one location */
	for (i = label__first_frame(st); i < st->nframes; i = j + 1) {
		for (j = i; j + 1 < st->nframes && st->frames[j].inlined &&
			    st->frames[j + 1].addr == st->frames[i].addr; j++)
			;
		locs[n++] = location_id(b, &st->frames[i], j - i + 1);
	}
	m = pb__begin(b->out, PROFILE_SAMPLE);
	pb__packed(b->out, SAMPLE_LOCATION_ID, locs, n);
	pb__packed(b->out, SAMPLE_VALUE, values, b->leaks ? 6 : 4);
	label(b, "pid", NULL, p->pid);
	label(b, "comm", p->comm, 0);
	label(b, "kind", label__kind(st->kind), 0);
	proc_labels(b, p);
	pb__end(b->out, m);
	free(locs);
}

static void mappings(struct builder *b)
{
	size_t id, n = intern__count(b->mappings);

	for (id = 1; id <= n; id++) {
		const struct map_key *k = intern__key(b->mappings, id, NULL);
		uint64_t has = id < b->cap_map_has ? b->map_has[id] : 0;
		size_t m = pb__begin(b->out, PROFILE_MAPPING);

		pb__uint(b->out, MAPPING_ID, id);
		pb__uint(b->out, MAPPING_START, k->start);
		pb__uint(b->out, MAPPING_LIMIT, k->limit);
		pb__uint(b->out, MAPPING_OFFSET, k->offset);
		pb__uint(b->out, MAPPING_FILENAME, k->file);
		pb__uint(b->out, MAPPING_BUILD_ID, k->build_id);
		/* Set, pprof leaves our names alone rather than re-symbolizing the whole mapping. */
		pb__uint(b->out, MAPPING_HAS_FUNCTIONS, !!(has & HAS_FUNCTIONS));
		pb__uint(b->out, MAPPING_HAS_FILENAMES, !!(has & HAS_FILENAMES));
		pb__uint(b->out, MAPPING_HAS_LINE_NUMBERS, !!(has & HAS_LINE_NUMBERS));
		pb__end(b->out, m);
	}
}

static void locations(struct builder *b)
{
	size_t id, n = intern__count(b->locations), m, l;

	for (id = 1; id <= n; id++) {
		size_t len;
		const uint64_t *k = intern__key(b->locations, id, &len);

		len /= sizeof(*k);
		m = pb__begin(b->out, PROFILE_LOCATION);
		pb__uint(b->out, LOCATION_ID, id);
		pb__uint(b->out, LOCATION_MAPPING_ID, k[LOC_MAPPING]);
		pb__uint(b->out, LOCATION_ADDRESS, k[LOC_ADDR]);
		for (size_t i = LOC_LINES; i + 1 < len; i += 2) {
			l = pb__begin(b->out, LOCATION_LINE);
			pb__uint(b->out, LINE_FUNCTION_ID, k[i]);
			pb__uint(b->out, LINE_LINE, k[i + 1]);
			pb__end(b->out, l);
		}
		pb__end(b->out, m);
	}
}

static void functions(struct builder *b)
{
	size_t id, n = intern__count(b->functions), m;

	for (id = 1; id <= n; id++) {
		const struct fn_key *k = intern__key(b->functions, id, NULL);

		m = pb__begin(b->out, PROFILE_FUNCTION);
		pb__uint(b->out, FUNCTION_ID, id);
		pb__uint(b->out, FUNCTION_NAME, k->name);
		pb__uint(b->out, FUNCTION_SYSTEM_NAME, k->system_name);
		pb__uint(b->out, FUNCTION_FILENAME, k->file);
		pb__end(b->out, m);
	}
}

static void string_table(struct builder *b)
{
	size_t id, len, n = intern__count(b->strings);

	for (id = 1; id <= n; id++) {
		const void *s = intern__key(b->strings, id, &len);

		pb__bytes(b->out, PROFILE_STRING_TABLE, s, len);
	}
}

void pprof__encode(const struct mt_snapshot *s, const struct pprof_opts *opts, struct pb *out)
{
	static const struct pprof_opts none;
	const struct pprof_opts *o = opts ? opts : &none;
	struct builder b = { .out = out };
	size_t i, j;

	b.strings = intern__new();
	b.functions = intern__new();
	b.mappings = intern__new();
	b.locations = intern__new();
	for (i = 0; i < s->nprocs; i++)
		b.leaks |= s->procs[i].leak.done;
	header(&b, s, o);
	for (i = 0; i < s->nprocs; i++)
		for (j = 0; j < s->procs[i].nstacks && (!o->pid || s->procs[i].pid == o->pid); j++)
			sample(&b, &s->procs[i], &s->procs[i].stacks[j], o->base);
	mappings(&b);
	locations(&b);
	functions(&b);
	string_table(&b);
	intern__free(b.strings);
	intern__free(b.functions);
	intern__free(b.mappings);
	intern__free(b.locations);
	free(b.map_has);
}

struct pprof_base *pprof__base(const struct mt_snapshot *s, uint32_t pid)
{
	struct pprof_base *b = xcalloc(1, sizeof(*b));
	size_t n = 0;

	for (size_t i = 0; i < s->nprocs; i++)
		n += !pid || s->procs[i].pid == pid ? s->procs[i].nstacks : 0;
	b->now_ns = s->now_ns;
	b->stacks = xcalloc(n + 1, sizeof(*b->stacks));
	for (size_t i = 0; i < s->nprocs; i++)
		for (size_t k = 0; k < s->procs[i].nstacks && (!pid || s->procs[i].pid == pid); k++) {
			b->stacks[b->n].id = s->procs[i].stacks[k].id;
			stack_values(&s->procs[i].stacks[k], b->stacks[b->n++].v);
		}
	qsort(b->stacks, b->n, sizeof(*b->stacks), by_base_id);
	return b;
}

void pprof__base_free(struct pprof_base *b)
{
	if (!b)
		return;
	free(b->stacks);
	free(b);
}

/* gzip (not zlib) framing, as profile.proto asks of files on disk: windowBits 15 + 16. */
int pprof__gzip(const struct pb *in, struct pb *out)
{
	z_stream z = { 0 };
	int rc;

	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	out->cap = deflateBound(&z, in->len);
	out->data = xmalloc(out->cap);
	z.next_in = in->data;
	z.avail_in = (uInt)in->len;
	z.next_out = out->data;
	z.avail_out = (uInt)out->cap;
	rc = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -EIO;
}

int pprof__fwrite(const struct mt_snapshot *s, const struct pprof_opts *opts, FILE *f)
{
	struct pb raw = { 0 }, gz = { 0 };
	int err;

	pprof__encode(s, opts, &raw);
	err = pprof__gzip(&raw, &gz);
	if (!err && fwrite(gz.data, 1, gz.len, f) != gz.len)
		err = errno ? -errno : -EIO;
	if (!err && fflush(f))
		err = -errno;
	pb__free(&raw);
	pb__free(&gz);
	return err;
}

int pprof__write(const struct mt_snapshot *s, const char *path)
{
	FILE *f = fopen(path, "wbe");
	int err = f ? pprof__fwrite(s, NULL, f) : -errno;

	if (f && fclose(f) && !err)
		err = -errno;
	if (err)
		mt_err(NULL, "failed to write pprof profile %s: %s", path, strerror(-err));
	return err;
}
