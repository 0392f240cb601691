// SPDX-License-Identifier: BSD-2-Clause
/*
 * memtrace diff's inputs: a recording (replayed into a snapshot) or a JSON report (read with
 * jsonread), both reduced to the same stacks keyed by what their frames are called.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "model/diff.h"
#include "python.h"
#include "session/diff.h"
#include "lib/jsonread.h"
#include "symbolize/demangle.h"
#include "record/recording.h"
#include "session/replay.h"
#include "lib/util.h"

static int load_recording(struct diff *d, int side, FILE *f, const char *path)
{
	struct replay *r;
	int err = replay__load(f, path, REPLAY_OPEN_LOCAL, &r);

	if (err)
		return err;
	diff__add_snapshot(d, side, replay__snapshot(r));
	replay__free(r);
	return 0;
}

/* Where a JSON report lacks what diff needs: "processes[0].stacks[3]: no outstanding_bytes". */
struct where {
	const char *path;
	size_t proc, stack;
};

static int bad_report(const struct where *w, const char *what)
{
	mt_err("give a report written by memtrace --json",
	       "failed to read JSON report %s: processes[%zu].stacks[%zu]: %s", w->path, w->proc,
	       w->stack, what);
	return -EBADMSG;
}

static int frame_label(const struct jr_value *fr, char **out)
{
	const struct jr_value *line = jr__get(fr, "line");
	const char *off = jr__str(jr__get(fr, "module_offset"));
	const char *fn = jr__str(jr__get(fr, "function")), *raw = jr__str(jr__get(fr, "mangled"));
	uint64_t ln = 0, moff = off ? strtoull(off, NULL, 16) : 0;

	if (!fr || fr->type != JR_OBJECT)
		return -EBADMSG;
	if (line && !jr__u64(line, &ln))
		ln = 0;
	/* --no-demangle: names as the objects spell them, as a recording's would read */
	*out = diff__label(!mt_demangle && raw ? raw : fn, jr__str(jr__get(fr, "file")),
			   (int)ln, jr__str(jr__get(fr, "module")), moff);
	return 0;
}

/* The innermost Python frame's line gets the stack's heap (python.h tags Python frames). */
static void json_py_line(struct diff *d, int side, const struct jr_value *st, uint64_t bytes,
			 uint64_t blocks)
{
	const struct jr_value *frames = jr__get(st, "frames");
	uint64_t gc = 0;

	jr__u64(jr__get(st, "gc_reclaimed_bytes"), &gc);
	for (size_t f = 0; f < jr__len(frames); f++) {
		const struct jr_value *fr = jr__at(frames, f), *line = jr__get(fr, "line");
		const char *addr = jr__str(jr__get(fr, "address"));
		uint64_t ln = 0;

		if (!addr || !mt_py_is_frame(strtoull(addr, NULL, 16)))
			continue;
		if (line && !jr__u64(line, &ln))
			ln = 0;
		diff__add_py_line(d, side, diff__label(jr__str(jr__get(fr, "function")),
						       jr__str(jr__get(fr, "file")), (int)ln, NULL, 0),
				  bytes, blocks, gc);
		return;
	}
}

static int json_stack(struct diff *d, int side, const struct jr_value *st, const struct where *w)
{
	const struct jr_value *frames = jr__get(st, "frames"), *site = jr__get(st, "site");
	const char *kind = jr__str(jr__get(st, "kind"));
	uint64_t bytes, blocks, s = 0;
	uint32_t n = (uint32_t)jr__len(frames), first;
	char **labels;

	if (!jr__u64(jr__get(st, "outstanding_bytes"), &bytes) ||
	    !jr__u64(jr__get(st, "outstanding_allocations"), &blocks))
		return bad_report(w, "no outstanding_bytes or outstanding_allocations");
	if (!kind || (strcmp(kind, "heap") && strcmp(kind, "mmap")))
		return bad_report(w, "kind is neither \"heap\" nor \"mmap\"");
	if (!frames || frames->type != JR_ARRAY)
		return bad_report(w, "no frames array");
	if (site && !jr__u64(site, &s))
		s = 0;
	first = diff__first_frame(s > INT32_MAX ? 0 : (int)s, n);
	labels = xcalloc(n - first, sizeof(*labels));
	for (uint32_t f = first; f < n; f++) {
		if (frame_label(jr__at(frames, f), &labels[f - first])) {
			for (uint32_t i = first; i < f; i++)
				free(labels[i - first]);
			free(labels);
			return bad_report(w, "a frame is not an object");
		}
	}
	diff__add_owned(d, side, strcmp(kind, "mmap") ? MT_KIND_HEAP : MT_KIND_MMAP, labels, n - first,
		   bytes, blocks);
	if (!strcmp(kind, "heap"))
		json_py_line(d, side, st, bytes, blocks);
	return 0;
}

/* The report's gc_summary (absent before memtrace watched the collector: none). */
static void json_gc(struct diff *d, int side, const struct jr_value *g)
{
	struct mt_gc gc = { 0 };

	if (!g)
		return;
	jr__u64(jr__get(g, "collections"), &gc.collections);
	jr__u64(jr__get(g, "pause_ns"), &gc.pause_ns);
	jr__u64(jr__get(g, "longest_pause_ns"), &gc.longest_pause_ns);
	jr__u64(jr__get(g, "reclaimed_bytes"), &gc.reclaimed_bytes);
	jr__u64(jr__get(g, "reclaimed_blocks"), &gc.reclaimed_blocks);
	diff__add_gc(d, side, &gc);
}

static int json_report(struct diff *d, int side, const struct jr_value *root, const char *path)
{
	const struct jr_value *procs = jr__get(root, "processes");
	static const char *const sums[] = { "summary", "mmap_summary" };
	struct where w = { path, 0, 0 };

	if (!procs || procs->type != JR_ARRAY || strcmp(jr__str(jr__get(root, "tool")) ?: "", "memtrace")) {
		mt_err("give a report written by memtrace --json",
		       "failed to read %s: JSON, but not a memtrace report (no \"tool\": \"memtrace\" and processes)",
		       path);
		return -EBADMSG;
	}
	for (w.proc = 0; w.proc < jr__len(procs); w.proc++) {
		const struct jr_value *stacks = jr__get(jr__at(procs, w.proc), "stacks");

		for (w.stack = 0; w.stack < jr__len(stacks); w.stack++) {
			int err = json_stack(d, side, jr__at(stacks, w.stack), &w);

			if (err)
				return err;
		}
	}
	json_gc(d, side, jr__get(root, "gc_summary"));
	for (int k = 0; k < 2; k++) {
		uint64_t v;

		if (jr__u64(jr__get(jr__get(root, sums[k]), "outstanding_bytes"), &v))
			d->bytes[side] += v;
		if (jr__u64(jr__get(jr__get(root, sums[k]), "outstanding_allocations"), &v))
			d->blocks[side] += v;
	}
	return 0;
}

static int load_json(struct diff *d, int side, FILE *f, const char *path)
{
	char *text = NULL;
	size_t len = 0, cap = 0, n, at;
	const char *what;
	struct jr_value *root;
	int err;

	do {
		xgrow(&text, &cap, len + 65536 + 1, 1);
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
	} while (n);
	text[len] = 0;
	root = jr__parse(text, len, &at, &what);
	if (!root) {
		mt_err("give a recording (memtrace record) or a JSON report (memtrace --json)",
		       "failed to read %s: neither a recording nor JSON: %s at offset %zu", path, what, at);
		free(text);
		return -EBADMSG;
	}
	err = json_report(d, side, root, path);
	jr__free(root);
	free(text);
	return err;
}

/* One side's recording, replayed on a thread of its own. */
struct side_load {
	FILE *f;
	const char *path;
	unsigned how;
	struct replay *r;
	int err;
};

static void *side_load(void *arg)
{
	struct side_load *s = arg;

	s->err = replay__load(s->f, s->path, s->how, &s->r);
	return NULL;
}

/* Both recordings, replayed side by side: a replay is one thread's work, and the two are apart. */
static int load_recordings(struct diff *d, FILE *f[2], const char *path[2])
{
	struct side_load s[2] = { { f[0], path[0], REPLAY_OPEN_LOCAL, NULL, 0 },
				  { f[1], path[1], REPLAY_OPEN_LOCAL | REPLAY_QUIET, NULL, 0 } };
	pthread_t t;
	bool apart = !pthread_create(&t, NULL, side_load, &s[1]);

	side_load(&s[0]);
	if (apart)
		pthread_join(t, NULL);
	else
		side_load(&s[1]);
	if (!s[0].err && !s[1].err) {
		diff__add_snapshot(d, 0, replay__snapshot(s[0].r));
		diff__add_snapshot(d, 1, replay__snapshot(s[1].r));
	}
	replay__free(s[0].r);
	replay__free(s[1].r);
	return s[0].err ? s[0].err : s[1].err;
}

static FILE *open_input(const char *path, int *err)
{
	FILE *f = fopen(path, "re");

	*err = f ? 0 : -errno;
	if (!f)
		mt_err(*err == -ENOENT ? "give a recording (memtrace record) or a JSON report (--json)" : NULL,
		       "failed to open %s: %s", path, strerror(-*err));
	return f;
}

static int load_open(struct diff *d, int side, FILE *f, const char *path)
{
	return recording__sniff(f) ? load_recording(d, side, f, path) : load_json(d, side, f, path);
}

int diff__load_both(struct diff *d, const char *before, const char *after)
{
	const char *path[2] = { before, after };
	FILE *f[2] = { NULL, NULL };
	int err;

	if (!(f[0] = open_input(before, &err)))
		return err;
	f[1] = fopen(after, "re");
	if (f[1] && recording__sniff(f[0]) && recording__sniff(f[1]))
		err = load_recordings(d, f, path);
	else if (!(err = load_open(d, 0, f[0], before)))	/* before first, as one at a time */
		err = f[1] ? load_open(d, 1, f[1], after) : diff__load(d, 1, after);
	if (f[1])
		fclose(f[1]);
	fclose(f[0]);
	return err;
}

int diff__load(struct diff *d, int side, const char *path)
{
	int err;
	FILE *f = open_input(path, &err);

	if (!f)
		return err;
	err = load_open(d, side, f, path);
	fclose(f);
	return err;
}
