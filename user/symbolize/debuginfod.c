// SPDX-License-Identifier: BSD-2-Clause
/*
 * Debug files fetched from debuginfod servers through elfutils' client, libdebuginfod, which keeps
 * them in its cache ($DEBUGINFOD_CACHE_PATH, else ~/.cache/debuginfod_client). A fetch can take
 * seconds, so it never runs where events are drained: requests go to one thread of its own, the
 * symbolizer reads the objects' symbols without their debug info meanwhile, and the final report
 * waits for what it asked for (debuginfod__wait).
 *
 * A server that takes connections but never answers would hold the report for the client's own
 * timeout (DEBUGINFOD_TIMEOUT, 90 s a try, tried three times): the wait gives up on the fetches
 * once nothing has moved for DEBUGINFOD_TIMEOUT seconds, or 30 when it is not set.
 *
 * The client reads the server list from $DEBUGINFOD_URLS when it queries. --debuginfod URL puts
 * it there when the first fetch starts: by then a traced command has been started, with the
 * environment it was given.
 *
 * The client is opened with dlopen at the first fetch, as elfutils' own libdwfl does: linked,
 * it brings libcurl, GnuTLS, Kerberos and LDAP (30 libraries, 6 MiB of memory) into every run,
 * while most runs fetch nothing.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/debuginfod.h>

#include "lib/htab.h"
#include "lib/util.h"
#include "symbolize/debuginfod.h"

struct request {
	char *build_id;
	enum debuginfod_state state;
	char *path;			/* FOUND: in the client's cache */
};

/* The client's calls, from libdebuginfod.so.1. */
static struct {
	debuginfod_client *(*begin)(void);
	void (*end)(debuginfod_client *);
	void (*set_user_data)(debuginfod_client *, void *);
	void *(*get_user_data)(debuginfod_client *);
	void (*set_progressfn)(debuginfod_client *, debuginfod_progressfn_t);
	int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
} api;

static bool client_loaded;

/* The client's calls into api; client_loaded false (said) when it is not installed. */
static void load_client_once(void)
{
	void *lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		mt_warn("no debug info from debuginfod: %s -- install Debian's libdebuginfod1", dlerror());
		return;
	}
	*(void **)&api.begin = dlsym(lib, "debuginfod_begin");
	*(void **)&api.end = dlsym(lib, "debuginfod_end");
	*(void **)&api.set_user_data = dlsym(lib, "debuginfod_set_user_data");
	*(void **)&api.get_user_data = dlsym(lib, "debuginfod_get_user_data");
	*(void **)&api.set_progressfn = dlsym(lib, "debuginfod_set_progressfn");
	*(void **)&api.find_debuginfo = dlsym(lib, "debuginfod_find_debuginfo");
	if (!api.begin || !api.end || !api.set_user_data || !api.get_user_data || !api.set_progressfn ||
	    !api.find_debuginfo) {
		mt_warn("no debug info from debuginfod: libdebuginfod.so.1 lacks a call memtrace uses -- "
			"install Debian's libdebuginfod1");
		return;
	}
	client_loaded = true;
}

/* Once per process, whichever client asks first (memtrace diff has two, each with its lock). */
static bool load_client(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_client_once);
	return client_loaded;
}

struct debuginfod {
	char *urls;
	pthread_mutex_t lock;
	pthread_cond_t work, done;	/* a request was made; one was answered */
	pthread_t thread;
	bool started;
	bool stop;			/* memtrace is done: cancel what is under way */
	struct request *reqs;		/* in the order asked for */
	size_t n, cap, next;		/* next: the first not yet taken by the thread */
	struct htab *index;		/* hash of a build id -> request index + 1 */
	int net_err;			/* the first failure to reach a server (-errno): the
					 * requests after it fail at once, rather than each
					 * waiting out its own timeout */
	size_t failed;			/* requests lost to net_err */
	uint64_t active_ns;		/* when a fetch last started, moved bytes or ended */
	long last_bytes;		/* the thread's: bytes of the transfer under way */
};

struct debuginfod *debuginfod__new(const char *urls)
{
	struct debuginfod *d;

	if (!urls || !urls[strspn(urls, " \t")])
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->urls = xstrdup(urls);
	d->index = htab__new(sizeof(uint32_t));
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->done, NULL);
	return d;
}

/* Called by the client as a transfer goes on: non-zero cancels it. */
static int progress(debuginfod_client *c, long a, long b)
{
	struct debuginfod *d = api.get_user_data(c);

	/* b: the file's size once a server answered; a is then the bytes received (else a count) */
	if (b > 0 && a != d->last_bytes) {
		d->last_bytes = a;
		__atomic_store_n(&d->active_ns, mt_now_ns(), __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&d->stop, __ATOMIC_RELAXED);
}

/* A server's answer that says nothing of the others: the file is not there, or is too big. */
static bool is_answer(int rc)
{
	return rc == -ENOENT || rc == -EFBIG || rc == -ECANCELED;
}

static void *fetcher(void *arg)
{
	struct debuginfod *d = arg;
	debuginfod_client *c = api.begin();

	if (c) {
		api.set_user_data(c, d);
		api.set_progressfn(c, progress);	/* also silences $DEBUGINFOD_PROGRESS */
	}
	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		struct request *r;
		char *build_id, *path = NULL;
		int rc = d->net_err;

		if (d->next == d->n) {
			pthread_cond_wait(&d->work, &d->lock);
			continue;
		}
		build_id = xstrdup(d->reqs[d->next++].build_id);
		d->last_bytes = -1;
		__atomic_store_n(&d->active_ns, mt_now_ns(), __ATOMIC_RELAXED);
		pthread_mutex_unlock(&d->lock);
		if (!rc)	/* build_id_len 0: the id is given as hex */
			rc = c ? api.find_debuginfo(c, (const unsigned char *)build_id, 0, &path) :
				 -ENOMEM;
		if (rc >= 0)
			close(rc);
		else
			mt_debug("debuginfod: no debug info for build id %s: %s", build_id, strerror(-rc));
		pthread_mutex_lock(&d->lock);
		__atomic_store_n(&d->active_ns, mt_now_ns(), __ATOMIC_RELAXED);
		r = &d->reqs[*(uint32_t *)htab__lookup(d->index, mt_hash(build_id, strlen(build_id), 0) | 1) - 1];
		if (r->state != DEBUGINFOD_PENDING) {	/* given up on (debuginfod__wait) */
			free(path);
		} else {
			r->state = rc >= 0 && path ? DEBUGINFOD_FOUND : DEBUGINFOD_NONE;
			r->path = rc >= 0 ? path : NULL;
		}
		if (rc < 0 && !is_answer(rc) && !d->stop) {
			d->net_err = d->net_err ?: rc;
			d->failed++;
		}
		free(build_id);
		pthread_cond_broadcast(&d->done);
	}
	pthread_mutex_unlock(&d->lock);
	if (c)
		api.end(c);
	return NULL;
}

/* Lock held. The first request starts the thread, and gives the client its servers. */
static void start(struct debuginfod *d)
{
	const char *env = getenv("DEBUGINFOD_URLS");

	if (d->started || !load_client())
		return;
	if (!env || strcmp(env, d->urls))
		setenv("DEBUGINFOD_URLS", d->urls, 1);	/* the client reads them from here only */
	d->started = !pthread_create(&d->thread, NULL, fetcher, d);
	if (!d->started)
		mt_warn("cannot start the debuginfod client: %s", strerror(errno));
}

enum debuginfod_state debuginfod__get(struct debuginfod *d, const char *build_id, const char **path)
{
	uint64_t key = mt_hash(build_id, strlen(build_id), 0) | 1;
	enum debuginfod_state st;
	struct request *r;
	bool existed;
	uint32_t *i;

	*path = NULL;
	pthread_mutex_lock(&d->lock);
	i = htab__insert(d->index, key, &existed);
	if (!existed) {
		start(d);
		xgrow(&d->reqs, &d->cap, d->n + 1, sizeof(*d->reqs));
		/* none once the thread could not start or was given up on */
		bool live = d->started && !d->stop;

		d->reqs[d->n] = (struct request){ xstrdup(build_id),
						  live ? DEBUGINFOD_PENDING : DEBUGINFOD_NONE, NULL };
		*i = (uint32_t)++d->n;
		if (!live)
			d->next = d->n;
		pthread_cond_signal(&d->work);
	}
	r = &d->reqs[*i - 1];
	/* Another id with the same hash: not fetched, rather than the wrong file (never seen). */
	st = strcmp(r->build_id, build_id) ? DEBUGINFOD_NONE : r->state;
	if (st == DEBUGINFOD_FOUND)
		*path = r->path;
	pthread_mutex_unlock(&d->lock);
	return st;
}

static size_t pending(const struct debuginfod *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->reqs[i].state == DEBUGINFOD_PENDING;
	return n;
}

/* How long the wait lets nothing move: the client's DEBUGINFOD_TIMEOUT, else 30 s. */
static uint64_t stall_ns(void)
{
	const char *env = getenv("DEBUGINFOD_TIMEOUT");
	long s = env ? atol(env) : 0;

	return (uint64_t)(s > 0 ? s : 30) * 1000000000ull;
}

/* Lock held. Nothing moved for too long: what is still pending is had without. */
static void give_up(struct debuginfod *d, uint64_t stall)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->reqs[i].state == DEBUGINFOD_PENDING) {
			d->reqs[i].state = DEBUGINFOD_NONE;
			n++;
		}
	__atomic_store_n(&d->stop, true, __ATOMIC_RELAXED);	/* the transfer is cancelled */
	pthread_cond_broadcast(&d->work);
	n += d->failed;		/* one warning for all */
	d->failed = 0;
	mt_warn("debuginfod at %s: no answer for %llu s: %zu object%s without debug info, named by offset",
		d->urls, (unsigned long long)(stall / 1000000000ull), n, n == 1 ? "" : "s");
}

void debuginfod__wait(struct debuginfod *d)
{
	uint64_t stall = stall_ns();
	size_t n;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	n = pending(d);
	if (n)
		fprintf(stderr, "memtrace: fetching debug info of %zu object%s from debuginfod (%s)...\n",
			n, n == 1 ? "" : "s", d->urls);
	while (pending(d)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250000000;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&d->done, &d->lock, &ts);
		if (pending(d) && mt_now_ns() - __atomic_load_n(&d->active_ns, __ATOMIC_RELAXED) > stall)
			give_up(d, stall);
	}
	if (d->failed) {
		mt_warn("debuginfod at %s: %s: %zu object%s without debug info, named by offset",
			d->urls, strerror(-d->net_err), d->failed, d->failed == 1 ? "" : "s");
		d->failed = 0;	/* said once */
	}
	pthread_mutex_unlock(&d->lock);
}

void debuginfod__free(struct debuginfod *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	__atomic_store_n(&d->stop, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&d->work);
	pthread_mutex_unlock(&d->lock);
	if (d->started)
		pthread_join(d->thread, NULL);
	for (size_t i = 0; i < d->n; i++) {
		free(d->reqs[i].build_id);
		free(d->reqs[i].path);
	}
	free(d->reqs);
	htab__free(d->index);
	pthread_cond_destroy(&d->work);
	pthread_cond_destroy(&d->done);
	pthread_mutex_destroy(&d->lock);
	free(d->urls);
	free(d);
}
