/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One HTTP/1.0 connection of the --metrics listener: a request read without blocking, then one
 * answer written without blocking, then closed. Shared by the listener and its pprof endpoints.
 */
#ifndef MT_HTTP_CONN_H
#define MT_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONN_REQ_MAX 4096
#define CONN_DEADLINE_NS 5000000000ull	/* to send a request, and to read an answer */

enum conn_state {
	CONN_FREE,
	CONN_READ,		/* the request is arriving */
	CONN_WAIT,		/* a profile is being made for it (session/profile_http.c) */
	CONN_WRITE,		/* the answer is going out */
};

struct conn {
	int fd;
	enum conn_state state;
	uint64_t deadline_ns;		/* READ and WRITE: dropped past it */
	size_t inlen;
	char in[CONN_REQ_MAX];
	bool head;			/* HEAD: the answer without its body */
	char *out;
	size_t outlen, outoff;
};

/* The request line's parts, once the request is whole: method, path and query (after '?'). */
struct request {
	char method[8];
	char path[1024];
	char query[1024];
};

/* Take in what has arrived; false when the connection is over (the peer closed, an error, too long). */
bool conn__read(struct conn *c);
/* The request is whole (its blank line came): parse its first line; false when it is not HTTP. */
bool conn__request(const struct conn *c, struct request *r);
bool conn__complete(const struct conn *c);
/* Send what the socket takes; false once all is sent or on an error. */
bool conn__write(struct conn *c);
/* Did the peer hang up while its answer is being made? */
bool conn__gone(const struct conn *c);
void conn__close(struct conn *c);

/* Make the answer and start writing it (the body is copied; headers: more "Name: value\r\n"). */
void conn__answer(struct conn *c, const char *status, const char *type, const char *headers,
		  const void *body, size_t len);
/*
 * An error: the status and a one-line plain-text body. pprof: the header `go tool pprof` looks for
 * to show the body as the server's reason (X-Go-Pprof, as Go's net/http/pprof sends).
 */
void conn__error(struct conn *c, const char *status, bool pprof, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The value of key in a query ("pid=1&seconds=2"), copied into buf; false when absent. */
bool query__get(const char *query, const char *key, char *buf, size_t size);

#endif
