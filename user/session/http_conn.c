// SPDX-License-Identifier: BSD-2-Clause
/* One HTTP/1.0 connection: read without blocking, answer without blocking, close. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/util.h"
#include "session/http_conn.h"

bool conn__complete(const struct conn *c)
{
	return memmem(c->in, c->inlen, "\r\n\r\n", 4) || memmem(c->in, c->inlen, "\n\n", 2);
}

bool conn__read(struct conn *c)
{
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	c->inlen += n;
	c->in[c->inlen] = 0;
	return c->inlen < sizeof(c->in) - 1 || conn__complete(c);	/* too long: drop it */
}

bool conn__request(const struct conn *c, struct request *r)
{
	char target[1024];
	char *q;

	memset(r, 0, sizeof(*r));
	if (sscanf(c->in, "%7s %1023s HTTP/", r->method, target) != 2 || target[0] != '/')
		return false;
	q = strchr(target, '?');
	if (q) {
		*q = 0;
		snprintf(r->query, sizeof(r->query), "%s", q + 1);
	}
	snprintf(r->path, sizeof(r->path), "%s", target);
	return true;
}

bool conn__write(struct conn *c)
{
	ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->outoff += n;
	return c->outoff < c->outlen;
}

bool conn__gone(const struct conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

void conn__close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void conn__answer(struct conn *c, const char *status, const char *type, const char *headers,
		  const void *body, size_t len)
{
	char *head = xasprintf("HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			       "Connection: close\r\n\r\n", status, type, len, headers ? headers : "");
	size_t hlen = strlen(head);

	c->outlen = hlen + (c->head ? 0 : len);
	c->out = xmalloc(c->outlen + 1);
	memcpy(c->out, head, hlen);
	if (!c->head && len)
		memcpy(c->out + hlen, body, len);
	c->outoff = 0;
	c->state = CONN_WRITE;
	c->deadline_ns = mt_now_ns() + CONN_DEADLINE_NS;
	free(head);
}

void conn__error(struct conn *c, const char *status, bool pprof, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	n = n < 0 ? 0 : n > (int)sizeof(line) - 2 ? (int)sizeof(line) - 2 : n;
	line[n++] = '\n';
	conn__answer(c, status, "text/plain; charset=utf-8", pprof ? "X-Go-Pprof: 1\r\n" : NULL, line, n);
}

bool query__get(const char *query, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		size_t len = strcspn(p, "&");

		if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(buf, size, "%.*s", (int)(len - klen - 1), p + klen + 1);
			return true;
		}
		if (len == klen && !strncmp(p, key, klen)) {	/* "seconds" alone: an empty value */
			buf[0] = 0;
			return true;
		}
	}
	return false;
}
