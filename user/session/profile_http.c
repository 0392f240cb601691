// SPDX-License-Identifier: BSD-2-Clause
/*
 * The pprof endpoints. A request waits in a slot: a delta until its N seconds are over, then in
 * order of arrival for the one profile made at a time. Making one is a snapshot and its encoding
 * in the poll loop (both read the model, which is the loop's alone), then gzip, the slow part at
 * pprof's best compression, on a worker thread while the loop goes on reading events.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "present/pprof.h"
#include "session/profile_http.h"

#define MAX_WAITING 16
#define MAX_SECONDS 3600	/* a delta longer than an hour is a mistake, not a scrape */

struct waiting {
	struct conn *c;			/* NULL: a free slot */
	bool allocs;			/* /debug/pprof/allocs: alloc_space shown first */
	uint32_t pid;			/* 0: every process */
	uint64_t due_ns;		/* made no sooner (a delta's end) */
	struct pprof_base *base;	/* a delta's start; NULL: since tracing began */
	uint64_t seq;			/* order of arrival */
};

/* The profile being compressed; the worker touches raw, gz, err and done only. */
struct job {
	pthread_t tid;
	bool running;			/* a worker to join */
	atomic_bool done;
	struct pb raw, gz;
	int err;
	struct conn *c;			/* who waits for it; NULL once it hung up */
	char name[32];			/* the file name it is offered as, as Go names it */
};

struct profiles {
	struct waiting w[MAX_WAITING];
	uint64_t seq;
	struct job job;
};

struct profiles *profiles__new(void)
{
	return xcalloc(1, sizeof(struct profiles));
}

static void job_join(struct job *j)
{
	if (j->running)
		pthread_join(j->tid, NULL);
	j->running = false;
}

static void release(struct waiting *w)
{
	pprof__base_free(w->base);
	memset(w, 0, sizeof(*w));
}

void profiles__free(struct profiles *p)
{
	if (!p)
		return;
	job_join(&p->job);
	pb__free(&p->job.raw);
	pb__free(&p->job.gz);
	for (int i = 0; i < MAX_WAITING; i++)
		release(&p->w[i]);
	free(p);
}

/* A positive decimal integer up to max, whole; 0 when it is not one. */
static uint64_t positive(const char *v, uint64_t max)
{
	char *end;
	unsigned long long n;

	if (!*v || *v < '0' || *v > '9')
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	return *end || errno || n > max ? 0 : n;
}

static bool has_pid(const struct mt_snapshot *s, uint32_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return true;
	return false;
}

/* The query's errors, answered with Go's words where Go has them; true when c was answered. */
static bool bad_query(struct conn *c, const char *query, uint64_t *seconds, uint64_t *pid)
{
	char v[64];

	if (query__get(query, "debug", v, sizeof(v)) && v[0] && strcmp(v, "0")) {
		conn__error(c, "400 Bad Request", true, "debug=%s (a text profile) is not served: "
			    "memtrace serves the protobuf profile, for go tool pprof", v);
		return true;
	}
	if (query__get(query, "seconds", v, sizeof(v)) && v[0] && !(*seconds = positive(v, MAX_SECONDS))) {
		conn__error(c, "400 Bad Request", true, "invalid value for \"seconds\" - must be a "
			    "positive integer, at most %d", MAX_SECONDS);
		return true;
	}
	if (query__get(query, "pid", v, sizeof(v)) && v[0] && !(*pid = positive(v, UINT32_MAX))) {
		conn__error(c, "400 Bad Request", true, "invalid value for \"pid\" - must be a process id");
		return true;
	}
	return false;
}

void profiles__request(struct profiles *p, struct conn *c, bool allocs, const char *query,
		       profiles_snapshot_fn snap, void *ctx)
{
	uint64_t seconds = 0, pid = 0;
	struct waiting *w = NULL;

	if (bad_query(c, query, &seconds, &pid))
		return;
	if (pid && !has_pid(snap(ctx), (uint32_t)pid)) {
		conn__error(c, "404 Not Found", true, "no traced process has pid %llu",
			    (unsigned long long)pid);
		return;
	}
	for (int i = 0; i < MAX_WAITING && !w; i++)
		w = p->w[i].c ? NULL : &p->w[i];
	if (!w) {
		conn__error(c, "503 Service Unavailable", true, "%d profiles are waiting already: "
			    "try again later", MAX_WAITING);
		return;
	}
	*w = (struct waiting){ .c = c, .allocs = allocs, .pid = (uint32_t)pid, .seq = ++p->seq };
	if (seconds) {	/* Go's delta: the difference between now and N seconds from now */
		w->base = pprof__base(snap(ctx), w->pid);
		w->due_ns = mt_now_ns() + seconds * 1000000000ull;
	}
	c->state = CONN_WAIT;
}

static void *compress(void *arg)
{
	struct job *j = arg;

	j->err = pprof__gzip(&j->raw, &j->gz);
	atomic_store(&j->done, true);
	return NULL;
}

/* Encode w's profile from the turn's snapshot, and hand its compression to the worker. */
static void job_start(struct profiles *p, struct waiting *w, const struct mt_snapshot *s)
{
	struct job *j = &p->job;
	struct pprof_opts o = { .pid = w->pid, .default_type = w->allocs ? "alloc_space" : NULL,
				.base = w->base, .time_ns = mt_unix_ns(s->now_ns) };

	pb__free(&j->raw);
	pb__free(&j->gz);
	pprof__encode(s, &o, &j->raw);
	j->c = w->c;
	snprintf(j->name, sizeof(j->name), "%s%s", w->allocs ? "allocs" : "heap", w->base ? "-delta" : "");
	release(w);
	atomic_store(&j->done, false);
	j->running = !pthread_create(&j->tid, NULL, compress, j);
	if (!j->running)
		compress(j);	/* no thread to be had: here, once */
}

/* The worker is done: its profile to whoever still waits. */
static void job_answer(struct job *j)
{
	char headers[128];

	job_join(j);
	if (!j->c)
		return;
	if (j->err) {
		conn__error(j->c, "500 Internal Server Error", true, "failed to compress the profile: %s",
			    strerror(-j->err));
	} else {
		snprintf(headers, sizeof(headers), "Content-Disposition: attachment; filename=\"%s\"\r\n"
			 "X-Content-Type-Options: nosniff\r\n", j->name);
		conn__answer(j->c, "200 OK", "application/octet-stream", headers, j->gz.data, j->gz.len);
	}
	j->c = NULL;
}

/* The request waiting longest whose time has come, or NULL. */
static struct waiting *next_due(struct profiles *p, uint64_t now)
{
	struct waiting *best = NULL;

	for (int i = 0; i < MAX_WAITING; i++) {
		struct waiting *w = &p->w[i];

		if (w->c && w->due_ns <= now && (!best || w->seq < best->seq))
			best = w;
	}
	return best;
}

void profiles__service(struct profiles *p, profiles_snapshot_fn snap, void *ctx)
{
	struct job *j = &p->job;
	struct waiting *w;

	if ((j->running || j->c) && atomic_load(&j->done))
		job_answer(j);
	if (j->running || j->c)
		return;		/* one profile at a time */
	w = next_due(p, mt_now_ns());
	if (w)
		job_start(p, w, snap(ctx));
}

void profiles__forget(struct profiles *p, const struct conn *c)
{
	for (int i = 0; i < MAX_WAITING; i++)
		if (p->w[i].c == c)
			release(&p->w[i]);
	if (p->job.c == c)
		p->job.c = NULL;	/* the worker finishes; its result goes nowhere */
}

void profiles__abandon(struct profiles *p)
{
	job_join(&p->job);
	if (p->job.c)
		job_answer(&p->job);	/* made already: it may as well go */
	for (int i = 0; i < MAX_WAITING; i++) {
		if (!p->w[i].c)
			continue;
		conn__error(p->w[i].c, "503 Service Unavailable", true,
			    "memtrace stopped tracing before the profile was ready");
		release(&p->w[i]);
	}
}
