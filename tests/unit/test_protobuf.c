// SPDX-License-Identifier: BSD-2-Clause
/* The protobuf writer against bytes worked out by hand from the encoding spec. */
#include <stdlib.h>

#include "lib/protobuf.h"
#include "tap.h"

static void is_bytes(const struct pb *b, const char *want, size_t n, const char *what)
{
	size_t i;

	if (ok(b->len == n && !memcmp(b->data, want, n), "%s", what))
		return;
	printf("#   got ");
	for (i = 0; i < b->len; i++)
		printf("%02x ", b->data[i]);
	printf("\n");
}

#define IS_BYTES(b, lit, what) is_bytes(b, lit, sizeof(lit) - 1, what)

static void test_varint(void)
{
	struct pb b = { 0 };

	pb__varint(&b, 0);
	pb__varint(&b, 1);
	pb__varint(&b, 127);
	pb__varint(&b, 128);
	pb__varint(&b, 300);
	IS_BYTES(&b, "\x00\x01\x7f\x80\x01\xac\x02", "varints 0, 1, 127, 128, 300");
	pb__free(&b);
	pb__varint(&b, UINT64_MAX);
	IS_BYTES(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "varint 2^64-1 takes ten bytes");
	pb__free(&b);
	pb__varint(&b, (uint64_t)-2);
	IS_BYTES(&b, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", "int64 -2 as two's complement");
	pb__free(&b);
}

static void test_fields(void)
{
	struct pb b = { 0 };

	pb__uint(&b, 1, 150);
	IS_BYTES(&b, "\x08\x96\x01", "field 1 = 150 (the spec's own example)");
	pb__free(&b);
	pb__uint(&b, 3, 0);
	ok(b.len == 0, "a zero varint field is left out");
	pb__uint(&b, 16, 1);
	IS_BYTES(&b, "\x80\x01\x01", "field 16 needs a two-byte tag");
	pb__free(&b);
	pb__string(&b, 2, "testing");
	IS_BYTES(&b, "\x12\x07testing", "string field 2 (the spec's example)");
	pb__free(&b);
	pb__string(&b, 6, "");
	IS_BYTES(&b, "\x32\x00", "an empty string is still written");
	pb__free(&b);
}

static void test_packed(void)
{
	static const uint64_t v[] = { 3, 270, 86942 };
	struct pb b = { 0 };

	pb__packed(&b, 4, v, 3);
	IS_BYTES(&b, "\x22\x06\x03\x8e\x02\x9e\xa7\x05", "packed 3, 270, 86942 (the spec's example)");
	pb__free(&b);
	pb__packed(&b, 4, v, 0);
	ok(b.len == 0, "an empty packed field is left out");
}

static void test_nested(void)
{
	struct pb b = { 0 };
	size_t outer, inner;
	char body[200], want[208];

	outer = pb__begin(&b, 3);
	pb__uint(&b, 1, 150);
	pb__end(&b, outer);
	IS_BYTES(&b, "\x1a\x03\x08\x96\x01", "message field 3 holding field 1 = 150");
	pb__free(&b);

	outer = pb__begin(&b, 1);
	inner = pb__begin(&b, 2);
	pb__end(&b, inner);
	pb__end(&b, outer);
	IS_BYTES(&b, "\x0a\x02\x12\x00", "an empty message nested in another");
	pb__free(&b);

	/* A 205-byte body: its length (cd 01) takes two of the five bytes reserved for it. */
	memset(body, 'x', sizeof(body));
	outer = pb__begin(&b, 1);
	pb__string(&b, 2, "");
	pb__bytes(&b, 3, body, sizeof(body));
	pb__end(&b, outer);
	memcpy(want, "\x0a\xcd\x01\x12\x00\x1a\xc8\x01", 8);
	memcpy(want + 8, body, sizeof(body));
	is_bytes(&b, want, sizeof(want), "a 205-byte message gets a two-byte length");
	pb__free(&b);
}

int main(void)
{
	test_varint();
	test_fields();
	test_packed();
	test_nested();
	return done_testing();
}
