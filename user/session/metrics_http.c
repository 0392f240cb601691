// SPDX-License-Identifier: BSD-2-Clause
/*
 * The --metrics listener: HTTP/1.0 on a non-blocking socket, serviced from the poll loop. Each
 * connection reads one request, gets one answer and is closed; a client that is slow to send or
 * to read is dropped at its deadline, so tracing never waits for a scraper. Prometheus' /metrics
 * is answered at once; the pprof endpoints wait their turn (session/profile_http.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/procmaps.h"
#include "lib/util.h"
#include "present/metrics.h"
#include "present/pprof.h"
#include "session/http_conn.h"
#include "session/metrics_http.h"
#include "session/profile_http.h"

#define MAX_CONNS 16	/* deltas wait seconds: room for them and for the scrapes beside */

struct metrics_server {
	int fd;
	int top;
	struct conn conns[MAX_CONNS];
	struct profiles *profiles;
};

/* 1-65535 in decimal: getaddrinfo() would take 99999 as 34463. */
static bool valid_port(const char *s)
{
	size_t len = strlen(s);
	unsigned long v;

	if (!len || len > 5 || strspn(s, "0123456789") != len)
		return false;
	v = strtoul(s, NULL, 10);
	return v >= 1 && v <= 65535;
}

/* "host:port", "[v6]:port": split in place. */
static int split_addr(char *s, char **host, char **port)
{
	char *colon = strrchr(s, ':');

	if (!colon || !colon[1])
		return -EINVAL;
	*colon = 0;
	*port = colon + 1;
	*host = s;
	if (*s == '[' && colon > s + 1 && colon[-1] == ']') {
		colon[-1] = 0;
		*host = s + 1;
	}
	return **host && valid_port(*port) ? 0 : -EINVAL;
}

static int open_socket(const char *addr_port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE }, *res = NULL;
	char *copy = xstrdup(addr_port), *host, *port;
	int fd = -1, one = 1, rc;

	if (split_addr(copy, &host, &port)) {
		mt_err("give ADDR:PORT, a port from 1 to 65535, such as 127.0.0.1:9464", "invalid --metrics address '%s'",
		       addr_port);
		free(copy);
		return -EINVAL;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		mt_err("give ADDR:PORT, such as 127.0.0.1:9464", "failed to resolve '%s': %s",
		       addr_port, gai_strerror(rc));
		free(copy);
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 16)) {
			rc = -errno;
			close(fd);
			fd = rc;
		}
	} else {
		fd = -errno;
	}
	if (fd < 0)
		mt_err(fd == -EADDRINUSE ? "pick another port" : NULL,
		       "failed to listen on %s: %s", addr_port, strerror(-fd));
	freeaddrinfo(res);
	free(copy);
	return fd;
}

int metrics__listen(struct metrics_server **out, const char *addr_port, int top)
{
	struct metrics_server *m;
	int fd = open_socket(addr_port);

	if (fd < 0)
		return fd;
	m = xcalloc(1, sizeof(*m));
	m->fd = fd;
	m->top = top;
	m->profiles = profiles__new();
	for (int i = 0; i < MAX_CONNS; i++)
		m->conns[i].fd = -1;
	*out = m;
	return 0;
}

static void accept_new(struct metrics_server *m)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &m->conns[i];

		if (c->fd >= 0)
			continue;
		c->fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c->fd < 0)
			return;		/* EAGAIN: nobody waiting; anything else: try next turn */
		c->state = CONN_READ;
		c->deadline_ns = mt_now_ns() + CONN_DEADLINE_NS;
	}
	/* All slots busy: the rest wait in the listen backlog. */
}

static char *exposition(const struct metrics_server *m, const struct mt_snapshot *s, size_t *len)
{
	uint64_t *rss = xcalloc(s->nprocs + 1, sizeof(*rss));
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();	/* out of memory: as xmalloc does */
	for (size_t i = 0; i < s->nprocs; i++)
		if (!s->procs[i].exited)
			rss[i] = 1024 * procmaps__rss_kb((int)s->procs[i].pid);
	metrics__format(s, rss, m->top, f);
	fclose(f);
	free(rss);
	return text;
}

/* The snapshot of one turn of the poll loop, built when a request first needs it. */
struct turn {
	metrics_snapshot_fn build;
	void *ctx;
	struct mt_snapshot *snap;
};

static const struct mt_snapshot *turn_snapshot(void *arg)
{
	struct turn *t = arg;

	if (!t->snap)
		t->snap = t->build(t->ctx);
	return t->snap;
}

static void answer_text(struct conn *c, const char *type, char *text, size_t len)
{
	conn__answer(c, "200 OK", type, NULL, text, len);
	free(text);
}

static void serve_index(struct conn *c, struct turn *t)
{
	char *html = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&html, &len);

	if (!f)
		abort();	/* out of memory: as xmalloc does */
	pprof__index(turn_snapshot(t), f);
	fclose(f);
	answer_text(c, "text/html; charset=utf-8", html, len);
}

/* Route a whole request to its answer, or to the pprof endpoints' queue. */
static void route(struct metrics_server *m, struct conn *c, struct turn *t)
{
	struct request r;
	size_t len = 0;
	char *text;

	if (!conn__request(c, &r)) {
		conn__error(c, "400 Bad Request", false, "not an HTTP request");
		return;
	}
	c->head = !strcmp(r.method, "HEAD");
	if (strcmp(r.method, "GET") && !c->head) {
		conn__error(c, "405 Method Not Allowed", false, "%s is not served: use GET", r.method);
	} else if (!strcmp(r.path, "/metrics")) {
		text = exposition(m, turn_snapshot(t), &len);
		answer_text(c, "text/plain; version=0.0.4; charset=utf-8", text, len);
	} else if (!strcmp(r.path, "/debug/pprof/") || !strcmp(r.path, "/debug/pprof")) {
		serve_index(c, t);
	} else if (!strcmp(r.path, "/debug/pprof/heap") || !strcmp(r.path, "/debug/pprof/allocs")) {
		profiles__request(m->profiles, c, !strcmp(r.path, "/debug/pprof/allocs"), r.query,
				  turn_snapshot, t);
	} else if (!strncmp(r.path, "/debug/pprof/", 13)) {
		conn__error(c, "404 Not Found", true, "Unknown profile: memtrace serves heap and allocs");
	} else {
		conn__error(c, "404 Not Found", false, "404 page not found: memtrace serves /metrics "
			    "and /debug/pprof/");
	}
}

/* One connection's turn: read, route, write, or drop it when done, late or hung up. */
static void service_conn(struct metrics_server *m, struct conn *c, struct turn *t, uint64_t now)
{
	bool alive = true;

	if (c->state == CONN_READ) {
		alive = conn__read(c);
		if (alive && conn__complete(c))
			route(m, c, t);
	}
	if (c->state == CONN_WAIT && conn__gone(c)) {
		profiles__forget(m->profiles, c);
		alive = false;
	}
	if (alive && c->state == CONN_WRITE)
		alive = conn__write(c);
	if (!alive || (c->state != CONN_WAIT && now > c->deadline_ns))
		conn__close(c);
}

void metrics__service(struct metrics_server *m, metrics_snapshot_fn build, void *ctx)
{
	struct turn t = { build, ctx, NULL };
	uint64_t now = mt_now_ns();

	if (!m)
		return;
	accept_new(m);
	for (int i = 0; i < MAX_CONNS; i++)
		if (m->conns[i].fd >= 0)
			service_conn(m, &m->conns[i], &t, now);
	profiles__service(m->profiles, turn_snapshot, &t);
	for (int i = 0; i < MAX_CONNS; i++)	/* a profile just made starts out now */
		if (m->conns[i].fd >= 0 && m->conns[i].state == CONN_WRITE && !conn__write(&m->conns[i]))
			conn__close(&m->conns[i]);
	snapshot__free(t.snap);
}

void metrics__close(struct metrics_server *m)
{
	if (!m)
		return;
	profiles__abandon(m->profiles);
	for (int i = 0; i < MAX_CONNS; i++) {
		if (m->conns[i].fd < 0)
			continue;
		if (m->conns[i].state == CONN_WRITE)
			conn__write(&m->conns[i]);	/* once, without waiting: a 503 says why */
		conn__close(&m->conns[i]);
	}
	profiles__free(m->profiles);
	close(m->fd);
	free(m);
}
