/* SPDX-License-Identifier: BSD-2-Clause */
/* A minimal protocol-buffers writer: varints, length-delimited fields, nested and packed fields. */
#ifndef MT_PROTOBUF_H
#define MT_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

/* A growable output buffer; zero-initialize it, release it with pb__free(). */
struct pb {
	uint8_t *data;
	size_t len, cap;
};

void pb__free(struct pb *b);

void pb__varint(struct pb *b, uint64_t v);
/* A varint field (wire type 0), left out when v is 0, proto3's default; int64 values pass through as
 * their two's complement. */
void pb__uint(struct pb *b, uint32_t field, uint64_t v);
/* A length-delimited field (wire type 2). */
void pb__bytes(struct pb *b, uint32_t field, const void *data, size_t len);
void pb__string(struct pb *b, uint32_t field, const char *s);
/* A packed repeated varint field; writes nothing when n is 0, as an empty repeated field is absent. */
void pb__packed(struct pb *b, uint32_t field, const uint64_t *v, size_t n);

/* A nested message: pb__begin() returns a mark to hand to pb__end() once its fields are written. */
size_t pb__begin(struct pb *b, uint32_t field);
void pb__end(struct pb *b, size_t mark);

#endif
