// SPDX-License-Identifier: BSD-2-Clause
/*
 * The --metrics endpoint: HTTP/1.0 on a non-blocking socket, serviced from the poll loop. Each
 * connection reads one request, gets one answer and is closed; a client that is slow to send or
 * to read is dropped at its deadline, so tracing never waits for a scraper.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "present/metrics.h"
#include "lib/procmaps.h"
#include "symbolize/snapshot_build.h"
#include "lib/util.h"

#define MAX_CONNS 8
#define REQ_MAX 4096
#define DEADLINE_NS 5000000000ull

struct conn {
	int fd;				/* -1: free slot */
	uint64_t deadline_ns;
	size_t inlen;
	char in[REQ_MAX];
	char *out;			/* the whole response once the request is read */
	size_t outlen, outoff;
};

struct metrics_server {
	int fd;
	int top;
	struct conn conns[MAX_CONNS];
};

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
	return **host ? 0 : -EINVAL;
}

static int open_socket(const char *addr_port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE }, *res = NULL;
	char *copy = xstrdup(addr_port), *host, *port;
	int fd = -1, one = 1, rc;

	if (split_addr(copy, &host, &port)) {
		mt_err("give ADDR:PORT, such as 127.0.0.1:9464", "invalid --metrics address '%s'",
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
	for (int i = 0; i < MAX_CONNS; i++)
		m->conns[i].fd = -1;
	*out = m;
	return 0;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
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
		c->deadline_ns = mt_now_ns() + DEADLINE_NS;
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

/* Answer a complete request; *snap is built on the first scrape that needs it. */
static void respond(struct metrics_server *m, struct conn *c, struct mt_snapshot **snap,
		    metrics_snapshot_fn build, void *ctx)
{
	bool head = !strncmp(c->in, "HEAD ", 5), get = !strncmp(c->in, "GET ", 4);
	const char *path = c->in + (head ? 5 : 4);
	size_t plen = strcspn(path, " ?\r\n"), blen = 0;
	char *body = NULL;
	const char *status = "404 Not Found", *type = "text/plain; charset=utf-8";

	if (!get && !head) {
		status = "405 Method Not Allowed";
	} else if (plen == 8 && !strncmp(path, "/metrics", 8)) {
		if (!*snap)
			*snap = build(ctx);
		body = exposition(m, *snap, &blen);
		status = "200 OK";
		type = "text/plain; version=0.0.4; charset=utf-8";
	}
	if (!body)
		body = xasprintf("%s\n", status), blen = strlen(body);
	c->out = xasprintf("HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			   "Connection: close\r\n\r\n%.*s", status, type, blen,
			   head ? 0 : (int)blen, body);
	c->outlen = strlen(c->out);
	free(body);
}

static bool request_complete(const struct conn *c)
{
	return memmem(c->in, c->inlen, "\r\n\r\n", 4) || memmem(c->in, c->inlen, "\n\n", 2);
}

/* Read what has arrived; false when the connection is done with (closed by the peer, error). */
static bool conn_read(struct conn *c)
{
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	c->inlen += n;
	c->in[c->inlen] = 0;
	return c->inlen < sizeof(c->in) - 1 || request_complete(c);	/* too long: drop it */
}

static bool conn_write(struct conn *c)
{
	ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->outoff += n;
	return c->outoff < c->outlen;
}

void metrics__service(struct metrics_server *m, metrics_snapshot_fn build, void *ctx)
{
	struct mt_snapshot *snap = NULL;
	uint64_t now = mt_now_ns();

	if (!m)
		return;
	accept_new(m);
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &m->conns[i];
		bool alive;

		if (c->fd < 0)
			continue;
		if (!c->out) {
			alive = conn_read(c);
			if (alive && request_complete(c))
				respond(m, c, &snap, build, ctx);
		}
		if (c->out)
			alive = conn_write(c);
		if (!alive || now > c->deadline_ns)
			conn_close(c);
	}
	snapshot__free(snap);
}

void metrics__close(struct metrics_server *m)
{
	if (!m)
		return;
	for (int i = 0; i < MAX_CONNS; i++)
		if (m->conns[i].fd >= 0)
			conn_close(&m->conns[i]);
	close(m->fd);
	free(m);
}
