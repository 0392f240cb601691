// SPDX-License-Identifier: BSD-2-Clause
/*
 * memtrace diff: stacks of two runs matched by name, their outstanding bytes and blocks
 * compared, the largest change first. A stack is "new" when BEFORE held nothing there and AFTER
 * does, "vanished" the other way round, else it "grew" or "shrank" (by bytes, then blocks).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "model/diff.h"
#include "present/flamegraph.h"
#include "lib/htab.h"
#include "lib/json.h"
#include "lib/util.h"

struct diff *diff__new(void)
{
	struct diff *d = xcalloc(1, sizeof(*d));

	d->index = htab__new(sizeof(uint32_t));
	return d;
}

void diff__free(struct diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		for (uint32_t k = 0; k < d->stacks[i].nlabels; k++)
			free(d->stacks[i].labels[k]);
		free(d->stacks[i].labels);
		free(d->stacks[i].key);
	}
	free(d->stacks);
	htab__free(d->index);
	free(d);
}

/* Root first, as folded stacks are; ';' inside a name would split it, so it becomes ':'. */
static char *make_key(enum mt_kind kind, char **labels, uint32_t n)
{
	char *key = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&key, &size);

	if (!m)
		abort();	/* only ENOMEM, as xmalloc would */
	if (kind == MT_KIND_MMAP)
		fputs(n ? "[mmap];" : "[mmap]", m);
	for (uint32_t i = n; i-- > 0;) {
		for (const char *c = labels[i]; *c; c++)
			fputc(*c == ';' ? ':' : *c == '\n' ? ' ' : *c, m);
		if (i)
			fputc(';', m);
	}
	fclose(m);
	return key;
}

/* Found by a hash of the key and compared in full; a collision rehashes with the next seed. */
static struct diff_stack *find(struct diff *d, enum mt_kind kind, char **labels, uint32_t n)
{
	char *key = make_key(kind, labels, n);

	for (uint64_t seed = 0;; seed++) {
		uint64_t h = mt_hash(key, strlen(key), seed);
		bool existed;
		uint32_t *i = htab__insert(d->index, h ? h : 1, &existed);
		struct diff_stack *st;

		if (existed && strcmp(d->stacks[*i - 1].key, key))
			continue;
		if (existed) {
			free(key);
			return &d->stacks[*i - 1];
		}
		xgrow(&d->stacks, &d->cap, d->n + 1, sizeof(*d->stacks));
		st = &d->stacks[d->n];
		*i = (uint32_t)++d->n;
		st->key = key;
		st->kind = kind;
		st->nlabels = n;
		st->labels = xcalloc(n, sizeof(*st->labels));
		for (uint32_t k = 0; k < n; k++)
			st->labels[k] = xstrdup(labels[k]);
		return st;
	}
}

void diff__add(struct diff *d, int side, enum mt_kind kind, char **labels, uint32_t n,
	       uint64_t bytes, uint64_t blocks)
{
	struct diff_stack *st = find(d, kind, labels, n);

	st->bytes[side] += bytes;
	st->blocks[side] += blocks;
}

static int64_t delta(const uint64_t v[2]) { return (int64_t)(v[1] - v[0]); }
static uint64_t magnitude(int64_t v) { return v < 0 ? -(uint64_t)v : (uint64_t)v; }

static int by_change(const void *x, const void *y)
{
	const struct diff_stack *a = *(const struct diff_stack *const *)x;
	const struct diff_stack *b = *(const struct diff_stack *const *)y;
	uint64_t ma = magnitude(delta(a->bytes)), mb = magnitude(delta(b->bytes));

	if (ma != mb)
		return ma < mb ? 1 : -1;
	ma = magnitude(delta(a->blocks));
	mb = magnitude(delta(b->blocks));
	if (ma != mb)
		return ma < mb ? 1 : -1;
	return strcmp(a->key, b->key);
}

size_t diff__changed(const struct diff *d, const struct diff_stack ***out)
{
	const struct diff_stack **v = xcalloc(d->n, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (delta(d->stacks[i].bytes) || delta(d->stacks[i].blocks))
			v[n++] = &d->stacks[i];
	qsort(v, n, sizeof(*v), by_change);
	*out = v;
	return n;
}

static const char *status(const struct diff_stack *st)
{
	bool had = st->bytes[0] || st->blocks[0], has = st->bytes[1] || st->blocks[1];

	if (!had && has)
		return "new";
	if (had && !has)
		return "vanished";
	if (delta(st->bytes) != 0)
		return delta(st->bytes) > 0 ? "grew" : "shrank";
	return delta(st->blocks) > 0 ? "grew" : "shrank";
}

struct counts {
	size_t grew, shrank, new_, vanished, unchanged;
};

static struct counts count(const struct diff *d)
{
	struct counts c = { 0 };

	for (size_t i = 0; i < d->n; i++) {
		const struct diff_stack *st = &d->stacks[i];
		const char *s = status(st);

		if (!delta(st->bytes) && !delta(st->blocks))
			c.unchanged++;
		else if (!strcmp(s, "new"))
			c.new_++;
		else if (!strcmp(s, "vanished"))
			c.vanished++;
		else if (!strcmp(s, "grew"))
			c.grew++;
		else
			c.shrank++;
	}
	return c;
}

int diff__text(const struct diff *d, const char *before, const char *after, int top, FILE *f)
{
	const struct diff_stack **v;
	size_t n = diff__changed(d, &v);
	struct counts c = count(d);

	fprintf(f, "memtrace diff: %s -> %s\n", before, after);
	fprintf(f, "outstanding: %" PRIu64 " B in %" PRIu64 " blocks -> %" PRIu64 " B in %" PRIu64
		   " blocks: %+" PRId64 " B, %+" PRId64 " blocks\n",
		d->bytes[0], d->blocks[0], d->bytes[1], d->blocks[1], delta(d->bytes), delta(d->blocks));
	fprintf(f, "stacks: %zu grew, %zu shrank, %zu new, %zu vanished, %zu unchanged\n", c.grew,
		c.shrank, c.new_, c.vanished, c.unchanged);
	if (n)
		fprintf(f, "\n%12s %9s %12s %12s  %-8s %s\n", "bytes", "blocks", "before", "after",
			"status", "stack (call site first)");
	for (size_t i = 0; i < n && i < (size_t)top; i++) {
		const struct diff_stack *st = v[i];

		fprintf(f, "%+12" PRId64 " %+9" PRId64 " %12" PRIu64 " %12" PRIu64 "  %-8s %s",
			delta(st->bytes), delta(st->blocks), st->bytes[0], st->bytes[1], status(st),
			st->kind == MT_KIND_MMAP ? "[mmap] " : "");
		for (uint32_t k = 0; k < st->nlabels; k++)
			fprintf(f, "%s%s", k ? " < " : "", st->labels[k]);
		fputc('\n', f);
	}
	if (n > (size_t)top)
		fprintf(f, "... and %zu more (-n to show more, --json for all)\n", n - (size_t)top);
	free(v);
	return ferror(f) ? -EIO : 0;
}

static void json_side(struct json *j, const char *key, const uint64_t v[2])
{
	char k[32];

	snprintf(k, sizeof(k), "before_%s", key);
	json__u64(j, k, v[0]);
	snprintf(k, sizeof(k), "after_%s", key);
	json__u64(j, k, v[1]);
	snprintf(k, sizeof(k), "delta_%s", key);
	json__int(j, k, delta(v));
}

int diff__json(const struct diff *d, const char *before, const char *after, FILE *f)
{
	const struct diff_stack **v;
	size_t n = diff__changed(d, &v);
	struct counts c = count(d);
	struct json j;

	json__init(&j, f, true);
	json__begin_object(&j, NULL);
	json__str(&j, "tool", "memtrace");
	json__str(&j, "kind", "diff");
	json__u64(&j, "schema_version", 1);
	json__str(&j, "before", before);
	json__str(&j, "after", after);
	json__begin_object(&j, "summary");
	json_side(&j, "bytes", d->bytes);
	json_side(&j, "blocks", d->blocks);
	json__u64(&j, "grew", c.grew);
	json__u64(&j, "shrank", c.shrank);
	json__u64(&j, "new", c.new_);
	json__u64(&j, "vanished", c.vanished);
	json__u64(&j, "unchanged", c.unchanged);
	json__end_object(&j);
	json__begin_array(&j, "stacks");
	for (size_t i = 0; i < n; i++) {
		json__begin_object(&j, NULL);
		json__str(&j, "status", status(v[i]));
		json__str(&j, "kind", mt_kind_name(v[i]->kind));
		json_side(&j, "bytes", v[i]->bytes);
		json_side(&j, "blocks", v[i]->blocks);
		json__begin_array(&j, "frames");
		for (uint32_t k = 0; k < v[i]->nlabels; k++)
			json__str(&j, NULL, v[i]->labels[k]);
		json__end_array(&j);
		json__end_object(&j);
	}
	json__end_array(&j);
	json__end_object(&j);
	free(v);
	return ferror(f) ? -EIO : 0;
}

static int by_key(const void *x, const void *y)
{
	return strcmp((*(const struct diff_stack *const *)x)->key,
		      (*(const struct diff_stack *const *)y)->key);
}

int diff__folded(const struct diff *d, FILE *f)
{
	const struct diff_stack **v = xcalloc(d->n, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->stacks[i].bytes[0] || d->stacks[i].bytes[1])
			v[n++] = &d->stacks[i];
	qsort(v, n, sizeof(*v), by_key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %" PRIu64 " %" PRIu64 "\n", v[i]->key, v[i]->bytes[0], v[i]->bytes[1]);
	free(v);
	return ferror(f) ? -EIO : 0;
}

/*
 * The flame graph presenter draws snapshots: this one is made up. One process, "growth", whose
 * stacks hold what grew as outstanding (the page's default view) and AFTER's outstanding as
 * allocated, so both the change and its context are a click apart.
 */
int diff__flamegraph(const struct diff *d, FILE *f)
{
	struct mt_stack *stacks = xcalloc(d->n, sizeof(*stacks));
	struct mt_proc proc = { .comm = "growth", .stacks = stacks };
	struct mt_snapshot snap = { .nprocs = 1, .procs = &proc };
	int err;

	for (size_t i = 0; i < d->n; i++) {
		const struct diff_stack *st = &d->stacks[i];
		struct mt_frame *fr = xcalloc(st->nlabels, sizeof(*fr));
		struct mt_stack *ms = &stacks[proc.nstacks++];

		for (uint32_t k = 0; k < st->nlabels; k++)
			fr[k].function = st->labels[k];
		*ms = (struct mt_stack){ .id = (uint32_t)i, .kind = st->kind, .nframes = st->nlabels,
					 .frames = fr, .allocated_bytes = st->bytes[1],
					 .allocations = st->blocks[1] };
		if (delta(st->bytes) > 0) {
			ms->outstanding_bytes = (uint64_t)delta(st->bytes);
			ms->outstanding_allocations = delta(st->blocks) > 0 ? (uint64_t)delta(st->blocks) : 0;
		}
	}
	err = flamegraph__write(&snap, f);
	for (size_t i = 0; i < proc.nstacks; i++)
		free((void *)stacks[i].frames);
	free(stacks);
	return err;
}

/* Each output asked for, to its file ("-" = stdout); the text table goes to -o or stdout. */
static int write_to(const char *path, const char *what, const struct env *env, const struct diff *d,
		    int (*write)(const struct env *, const struct diff *, FILE *))
{
	bool std = !strcmp(path, "-");
	FILE *f = std ? stdout : fopen(path, "we");
	int err;

	if (!f) {
		mt_err("check the directory exists and is writable", "cannot write %s to %s: %s", what,
		       path, strerror(errno));
		return -errno;
	}
	err = write(env, d, f);
	if (std ? fflush(f) : fclose(f))
		err = err ?: -EIO;
	if (err)
		mt_err(NULL, "failed to write %s to %s", what, path);
	return err;
}

static int w_text(const struct env *e, const struct diff *d, FILE *f) { return diff__text(d, e->before, e->after, e->top, f); }
static int w_json(const struct env *e, const struct diff *d, FILE *f) { return diff__json(d, e->before, e->after, f); }
static int w_folded(const struct env *e, const struct diff *d, FILE *f) { return diff__folded(d, f); }
static int w_flame(const struct env *e, const struct diff *d, FILE *f) { return diff__flamegraph(d, f); }

static int write_outputs(const struct env *env, const struct diff *d)
{
	int err = 0;

	if (env->json && write_to(env->json, "diff JSON", env, d, w_json))
		err = -1;
	if (env->folded && write_to(env->folded, "differential folded stacks", env, d, w_folded))
		err = -1;
	if (env->flamegraph && write_to(env->flamegraph, "differential flame graph", env, d, w_flame))
		err = -1;
	if (write_to(env->output ? env->output : "-", "diff table", env, d, w_text))
		err = -1;
	return err;
}

int diff__run(const struct env *env)
{
	struct diff *d = diff__new();
	int rc = 0;

	if (diff__load(d, 0, env->before) || diff__load(d, 1, env->after)) {
		diff__free(d);
		return MT_EXIT_DATA;
	}
	if (write_outputs(env, d))
		rc = MT_EXIT_FAIL;
	if (!rc && env->fail_if_grows >= 0 && delta(d->bytes) > env->fail_if_grows) {
		mt_err(NULL, "outstanding memory grew by %" PRId64 " B, more than the %lld B allowed by --fail-if-grows",
		       delta(d->bytes), env->fail_if_grows);
		rc = MT_EXIT_GREW;
	}
	diff__free(d);
	return rc;
}
