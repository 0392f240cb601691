// SPDX-License-Identifier: BSD-2-Clause
/* A minimal protocol-buffers writer: varints, length-delimited fields, nested and packed fields. */
#include <stdlib.h>
#include <string.h>

#include "lib/protobuf.h"
#include "lib/util.h"

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

/* A nested message's length is unknown until it ends; this many bytes are reserved for it. */
#define LEN_RESERVE 5

void pb__free(struct pb *b)
{
	free(b->data);
	*b = (struct pb){ 0 };
}

static void put(struct pb *b, const void *data, size_t len)
{
	xgrow(&b->data, &b->cap, b->len + len, 1);
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static size_t varint_encode(uint64_t v, uint8_t out[10])
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

void pb__varint(struct pb *b, uint64_t v)
{
	uint8_t tmp[10];

	put(b, tmp, varint_encode(v, tmp));
}

static void tag(struct pb *b, uint32_t field, int wire)
{
	pb__varint(b, (uint64_t)field << 3 | wire);
}

void pb__uint(struct pb *b, uint32_t field, uint64_t v)
{
	if (!v)
		return;
	tag(b, field, WIRE_VARINT);
	pb__varint(b, v);
}

void pb__bytes(struct pb *b, uint32_t field, const void *data, size_t len)
{
	tag(b, field, WIRE_LEN);
	pb__varint(b, len);
	put(b, data, len);
}

void pb__string(struct pb *b, uint32_t field, const char *s)
{
	pb__bytes(b, field, s, strlen(s));
}

void pb__packed(struct pb *b, uint32_t field, const uint64_t *v, size_t n)
{
	uint8_t tmp[10];
	size_t i, len = 0;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		len += varint_encode(v[i], tmp);
	tag(b, field, WIRE_LEN);
	pb__varint(b, len);
	for (i = 0; i < n; i++)
		pb__varint(b, v[i]);
}

size_t pb__begin(struct pb *b, uint32_t field)
{
	static const uint8_t zeros[LEN_RESERVE];

	tag(b, field, WIRE_LEN);
	put(b, zeros, LEN_RESERVE);
	return b->len;
}

/* Write the body's real length and close the gap left by the reservation. */
void pb__end(struct pb *b, size_t mark)
{
	uint8_t tmp[10];
	size_t body = b->len - mark;
	size_t n = varint_encode(body, tmp);
	uint8_t *len_at = b->data + mark - LEN_RESERVE;

	memcpy(len_at, tmp, n);
	memmove(len_at + n, b->data + mark, body);
	b->len -= LEN_RESERVE - n;
}
