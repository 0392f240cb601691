// SPDX-License-Identifier: BSD-2-Clause
/* folded__write on the fixture snapshot: exact lines for each value, escaping, parsing of values. */
#include <stdlib.h>

#include "fixture.h"
#include "present/folded.h"
#include "tap.h"

static char *render(const struct mt_snapshot *s, enum mt_folded_value v)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	ok(folded__write(s, f, v) == 0, "folded__write returns 0 for value %d", v);
	fclose(f);
	return out;
}

static void test_outstanding(void)
{
	char *out = render(&fix_snapshot, MT_FOLDED_OUTSTANDING);

	is_str(out,
	       "cxx worker;main;weird:name;std::vector<int, std::allocator<int> >::_M_realloc_insert 65536\n"
	       "leaky;[mmap];__libc_start_call_main;main;map_arena 8388608\n"
	       "leaky;__libc_start_call_main;main;leaky+0x1234 4096\n"
	       "leaky;__libc_start_call_main;main;retry_loop;leak_buffers 524288\n"
	       "leaky;__libc_start_call_main;main;run_server;leak_buffers 1048576\n",
	       "outstanding bytes: root first, site as leaf, [mmap] marked, freed stack left out");
	free(out);
}

static void test_allocated(void)
{
	char *out = render(&fix_snapshot, MT_FOLDED_ALLOCATED);

	is_str(out,
	       "cxx worker;main;weird:name;std::vector<int, std::allocator<int> >::_M_realloc_insert 131072\n"
	       "leaky;[mmap];__libc_start_call_main;main;map_arena 16777216\n"
	       "leaky;__libc_start_call_main;main;leaky+0x1234 4096\n"
	       "leaky;__libc_start_call_main;main;retry_loop;leak_buffers 524288\n"
	       "leaky;__libc_start_call_main;main;run_server;handle_request 409600\n"
	       "leaky;__libc_start_call_main;main;run_server;leak_buffers 2097152\n",
	       "allocated bytes include the fully freed stack");
	free(out);
}

static void test_blocks(void)
{
	char *out = render(&fix_snapshot, MT_FOLDED_BLOCKS);

	is_str(out,
	       "cxx worker;main;weird:name;std::vector<int, std::allocator<int> >::_M_realloc_insert 16\n"
	       "leaky;[mmap];__libc_start_call_main;main;map_arena 2\n"
	       "leaky;__libc_start_call_main;main;leaky+0x1234 1\n"
	       "leaky;__libc_start_call_main;main;retry_loop;leak_buffers 128\n"
	       "leaky;__libc_start_call_main;main;run_server;leak_buffers 256\n",
	       "blocks are outstanding allocations");
	free(out);
}

/* Two processes of one name with the same stack become one line; odd bytes are neutralized; a
 * frame with neither symbol nor mapping is its address; a site past the frames shows them all. */
static void test_merge_and_escape(void)
{
	static const struct mt_frame fr[] = {
		{ .addr = 0xdead },
		{ .addr = 0x1000, .function = "line\nbreak;semi" },
	};
	static const struct mt_stack st[] = {
		{ 1, MT_KIND_HEAP, 10, 1, 10, 1, 0, 2, fr, 0 },
		{ 2, MT_KIND_HEAP, 0, 0, 0, 0, 0, 2, fr, 0 },
	};
	static const struct mt_stack st2[] = { { 3, MT_KIND_HEAP, 5, 1, 5, 1, 0, 2, fr, 7 } };
	static const struct mt_proc procs[] = {
		{ .pid = 1, .comm = "a;b", .nstacks = 2, .stacks = st },
		{ .pid = 2, .comm = "a;b", .nstacks = 1, .stacks = st2 },
	};
	static const struct mt_snapshot s = { .nprocs = 2, .procs = procs };
	char *out = render(&s, MT_FOLDED_OUTSTANDING);

	is_str(out, "a:b;line?break:semi;0xdead 15\n", "merged, escaped, unknown frame as address");
	free(out);
}

static void test_empty(void)
{
	static const struct mt_snapshot s = { 0 };
	char *out = render(&s, MT_FOLDED_OUTSTANDING);

	is_str(out, "", "an empty snapshot gives an empty file");
	free(out);
}

static void test_parse(void)
{
	enum mt_folded_value v = MT_FOLDED_OUTSTANDING;

	ok(mt_folded_value_parse("blocks", &v) == 0 && v == MT_FOLDED_BLOCKS, "parses blocks");
	ok(mt_folded_value_parse("allocated", &v) == 0 && v == MT_FOLDED_ALLOCATED, "parses allocated");
	ok(mt_folded_value_parse("outstanding", &v) == 0 && v == MT_FOLDED_OUTSTANDING,
	   "parses outstanding");
	ok(mt_folded_value_parse("bytes", &v) < 0 && v == MT_FOLDED_OUTSTANDING,
	   "rejects an unknown value and leaves the output alone");
}

/* --leak-check's value: definitely and indirectly lost bytes; stacks without any left out. */
static void test_lost(void)
{
	struct mt_stack st[2] = { fix_leaky_stacks[1], fix_leaky_stacks[2] };
	struct mt_proc p = fix_procs[0];
	struct mt_snapshot s = fix_snapshot;
	char *out;

	st[0].leak[MT_LEAK_DEFINITE] = (struct mt_leak_tally){ 1000, 1 };
	st[0].leak[MT_LEAK_INDIRECT] = (struct mt_leak_tally){ 24, 3 };
	st[0].leak[MT_LEAK_POSSIBLE] = (struct mt_leak_tally){ 5000, 1 };
	st[1].leak[MT_LEAK_REACHABLE] = (struct mt_leak_tally){ 524288, 128 };
	p.stacks = st;
	p.nstacks = 2;
	s.procs = &p;
	s.nprocs = 1;
	out = render(&s, MT_FOLDED_LOST);
	is_str(out, "leaky;__libc_start_call_main;main;run_server;leak_buffers 1024\n",
	       "lost: definitely + indirectly lost bytes, the reachable stack left out");
	free(out);
}

int main(void)
{
	test_lost();
	test_outstanding();
	test_allocated();
	test_blocks();
	test_merge_and_escape();
	test_empty();
	test_parse();
	return done_testing();
}
