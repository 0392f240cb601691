/* SPDX-License-Identifier: BSD-2-Clause */
/* A small JSON reader (RFC 8259) into a tree: enough for diff to read memtrace's JSON reports. */
#ifndef MT_JSONREAD_H
#define MT_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jr_type { JR_NULL, JR_BOOL, JR_NUMBER, JR_STRING, JR_ARRAY, JR_OBJECT };

struct jr_value {
	enum jr_type type;
	bool boolean;
	bool exact;			/* a number that is a non-negative integer fitting u64 */
	uint64_t u64;			/* its value when exact */
	double number;
	char *string;			/* NUL-terminated UTF-8 (an embedded \u0000 ends it early) */
	size_t n;			/* items of an array, members of an object */
	struct jr_value *items;		/* array items; object member values */
	char **keys;			/* object member names, parallel to items */
};

/*
 * Parse text[0..len), which must be followed by a NUL (text[len] == 0). Returns the tree, or NULL
 * with *err_at = the byte offset of the problem and *err_what = what it is.
 */
struct jr_value *jr__parse(const char *text, size_t len, size_t *err_at, const char **err_what);
void jr__free(struct jr_value *v);

/* Member key of an object (the last one, if repeated); NULL when v is no object or lacks it. */
const struct jr_value *jr__get(const struct jr_value *v, const char *key);
/* Item i of an array, NULL past its end or when v is no array. */
const struct jr_value *jr__at(const struct jr_value *v, size_t i);
size_t jr__len(const struct jr_value *v);	/* items or members; 0 for scalars and NULL */
/* The string, or NULL when v is NULL or no string. */
const char *jr__str(const struct jr_value *v);
/* An exact unsigned integer into *out; false (and *out untouched) otherwise. */
bool jr__u64(const struct jr_value *v, uint64_t *out);

#endif
