// SPDX-License-Identifier: BSD-2-Clause
/* flamegraph__write: the exact embedded data, escaping inside <script>, and a page that fetches nothing. */
#include <stdlib.h>

#include "fixture.h"
#include "present/flamegraph.h"
#include "tap.h"

static char *render(const struct mt_snapshot *s)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	ok(flamegraph__write(s, f) == 0, "flamegraph__write returns 0");
	fclose(f);
	return out;
}

/* The text between the data <script> tags. */
static char *data_of(const char *page)
{
	const char *open = "<script id=\"data\" type=\"application/json\">";
	const char *start = strstr(page, open), *end;

	if (!start)
		return NULL;
	start += strlen(open);
	end = strstr(start, "</script>");
	return end ? strndup(start, (size_t)(end - start)) : NULL;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static void test_fixture(void)
{
	char *page = render(&fix_snapshot), *data = data_of(page);

	is_str(data,
	       "{\"stacks\":["
	       "[8388608,2,16777216,4,0,1,2,3,4],"
	       "[1048576,256,2097152,512,0,2,3,5,6],"
	       "[524288,128,524288,128,0,2,3,7,6],"
	       "[4096,1,4096,1,0,2,3,8],"
	       "[0,0,409600,100,0,2,3,5,9],"
	       "[65536,16,131072,32,10,3,11,12]],"
	       "\"names\":[\"leaky (4242)\",\"[mmap]\",\"__libc_start_call_main\",\"main\","
	       "\"map_arena\",\"run_server\",\"leak_buffers\",\"retry_loop\",\"leaky+0x1234\","
	       "\"handle_request\",\"cxx worker (4343)\",\"weird;name\","
	       "\"std::vector\\u003cint, std::allocator\\u003cint\\u003e \\u003e::_M_realloc_insert\"]}",
	       "stacks root first from the call site, values, and a shared name table");
	ok(!strncmp(page, "<!DOCTYPE html>\n", 16), "an HTML5 page");
	ok(!strstr(page, "http://") && !strstr(page, "https://") && !strstr(page, "src=") &&
		   !strstr(page, "<link") && !strstr(page, "@import") && !strstr(page, "fetch("),
	   "it loads nothing from anywhere");
	ok(strstr(page, "@MEMTRACE_DATA@") == NULL, "the data marker is replaced");
	ok(strstr(page, "</html>\n") != NULL, "the page is complete after the data");
	free(data);
	free(page);
}

static void test_escaping_and_skips(void)
{
	static const struct mt_frame fr[] = {
		{ .addr = 0x1, .function = "</script><b>\"q\"\\\x01" },
	};
	static const struct mt_stack st[] = {
		{ 1, MT_KIND_MMAP, 7, 1, 9, 2, 0, 1, fr, 0 },
		{ 2, MT_KIND_HEAP, 0, 0, 0, 0, 0, 1, fr, 0 },
	};
	static const struct mt_proc procs[] = { { .pid = 9, .comm = "p&q", .nstacks = 2, .stacks = st } };
	static const struct mt_snapshot s = { .nprocs = 1, .procs = procs };
	char *page = render(&s), *data = data_of(page);

	is_str(data,
	       "{\"stacks\":[[7,1,9,2,0,1,2]],\"names\":[\"p\\u0026q (9)\",\"[mmap]\","
	       "\"\\u003c/script\\u003e\\u003cb\\u003e\\\"q\\\"\\\\\\u0001\"]}",
	       "names are JSON-escaped and cannot close the script; a stack of zeros is left out");
	is_u64(count(page, "</script>"), 2, "only the page's own two scripts end");
	free(data);
	free(page);
}

int main(void)
{
	test_fixture();
	test_escaping_and_skips();
	return done_testing();
}
