// SPDX-License-Identifier: BSD-2-Clause
/* The JSON reader: values, exact 64-bit integers, escapes, and errors with their offsets. */
#include <stdlib.h>
#include <string.h>

#include "lib/jsonread.h"
#include "tap.h"

static struct jr_value *parse(const char *text)
{
	size_t at;
	const char *what;

	return jr__parse(text, strlen(text), &at, &what);
}

/* The offset of the error in text, or -1 when it parses. */
static long error_at(const char *text, const char **what)
{
	size_t at;
	struct jr_value *v = jr__parse(text, strlen(text), &at, what);

	if (v) {
		jr__free(v);
		return -1;
	}
	return (long)at;
}

int main(void)
{
	struct jr_value *v = parse(" {\"a\": [1, 18446744073709551615, -2, 2.5e3, true, false, null],"
				   " \"s\": \"q\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\", \"o\": {}, \"a\": 7} ");
	const char *what = NULL;
	uint64_t u = 0;

	ok(v != NULL, "a document with every kind of value parses");
	ok(jr__u64(jr__get(v, "a"), &u) && u == 7, "a repeated key: the last one wins");
	is_u64(jr__len(jr__get(v, "o")), 0, "empty object");
	jr__free(v);
	v = parse("[1, 18446744073709551615, -2, 2.5e3, true, false, null, \"x\"]");
	is_u64(jr__len(v), 8, "array of 8 items");
	ok(jr__u64(jr__at(v, 1), &u) && u == UINT64_MAX, "UINT64_MAX is exact");
	ok(!jr__u64(jr__at(v, 2), &u), "a negative number is no u64");
	ok(!jr__u64(jr__at(v, 3), &u) && jr__at(v, 3)->number == 2500, "2.5e3 is a double, 2500");
	ok(jr__at(v, 4)->type == JR_BOOL && jr__at(v, 4)->boolean, "true");
	ok(jr__at(v, 6)->type == JR_NULL, "null");
	ok(!jr__at(v, 8) && !jr__str(jr__at(v, 0)), "past the end: NULL; a number is no string");
	jr__free(v);
	v = parse("\"q\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\"");
	is_str(jr__str(v), "q\"\\/\n\xc3\xa9\xf0\x9f\x98\x80", "escapes, \\u00e9 and a surrogate pair in UTF-8");
	jr__free(v);
	v = parse("18446744073709551616");
	ok(v && !jr__u64(v, &u), "2^64 is not exact");
	jr__free(v);

	is_u64(error_at("{\"a\": 1,}", &what), 8, "trailing comma: error at its '}'");
	is_str(what, "expected a string key in object", "and says what");
	is_u64(error_at("[1 2]", &what), 3, "missing comma");
	is_u64(error_at("\"abc", &what), 0, "unterminated string, at its quote");
	is_u64(error_at("\"\\ud800\"", &what), 7, "lone surrogate");
	is_u64(error_at("01", &what), 1, "leading zero: text after the value");
	is_u64(error_at("-", &what), 0, "a lone minus");
	is_u64(error_at("1.", &what), 1, "a number ending in '.'");
	is_u64(error_at("tru", &what), 0, "cut literal");
	is_u64(error_at("", &what), 0, "empty input");
	is_u64(error_at("\"a\tb\"", &what), 2, "raw tab in a string");
	{
		char deep[1001];

		memset(deep, '[', 1000);
		deep[1000] = 0;
		ok(error_at(deep, &what) > 0 && !strcmp(what, "nested too deeply"),
		   "1000 nested arrays: refused, no stack overflow");
	}
	return done_testing();
}
