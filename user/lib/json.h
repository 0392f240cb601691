/* SPDX-License-Identifier: BSD-2-Clause */
/* A small streaming JSON writer: commas and escaping handled in one place. */
#ifndef MT_JSON_H
#define MT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *f;
	int depth;
	bool need_comma[64];
	bool pretty;
};

void json__init(struct json *j, FILE *f, bool pretty);
void json__begin_object(struct json *j, const char *key);	/* key NULL inside arrays */
void json__end_object(struct json *j);
void json__begin_array(struct json *j, const char *key);
void json__end_array(struct json *j);
void json__u64(struct json *j, const char *key, uint64_t v);
void json__int(struct json *j, const char *key, int64_t v);
void json__double(struct json *j, const char *key, double v);
void json__str(struct json *j, const char *key, const char *v);	/* NULL writes null */
void json__bool(struct json *j, const char *key, bool v);
/* Write s as a quoted, escaped JSON string. */
void json__quote(FILE *f, const char *s);

#endif
