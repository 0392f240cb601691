/* SPDX-License-Identifier: BSD-2-Clause */
/* A fixed synthetic snapshot with known totals, shared by the export unit tests and export_fixture. */
#ifndef MT_FIXTURE_H
#define MT_FIXTURE_H

#include "model/snapshot.h"

/*
 * Two processes. "leaky" (pid 4242) leaks from leak_buffers through two call paths (1 MiB + 512 KiB
 * outstanding, 640 blocks ever), keeps an 8 MiB mmap arena, frees all of handle_request's blocks
 * and has one frame without a symbol. "cxx worker" (pid 4343) has spaces and a ';' in its names
 * and two frames of allocator plumbing before its site.
 */
enum {
	FIX_LEAK_INUSE_BYTES = 1048576 + 524288,
	FIX_LEAK_ALLOC_OBJECTS = 512 + 128,
	FIX_TOTAL_OUTSTANDING = 8388608 + 1048576 + 524288 + 4096 + 65536,
	FIX_TOTAL_ALLOCATED = 16777216 + 2097152 + 524288 + 409600 + 4096 + 131072,
	FIX_TOTAL_BLOCKS = 2 + 256 + 128 + 1 + 16,
};

static const struct mt_mapping fix_exe = {
	0x555555554000, 0x555555559000, 0, "/usr/local/bin/leaky", "a1b2c3d4e5f60718",
};
static const struct mt_mapping fix_libc = {
	0x7ffff7d80000, 0x7ffff7f15000, 0x28000, "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL,
};

#define FIX_EXE(a, fn, ln) \
	{ .addr = (a), .module_offset = (a) - 0x555555554000, .function = (fn), .file = "leaky.c", \
	  .line = (ln), .mapping = &fix_exe }
#define FIX_LIBC(a, fn) \
	{ .addr = (a), .module_offset = (a) - 0x7ffff7d80000 + 0x28000, .function = (fn), \
	  .mapping = &fix_libc }

#define fix_malloc FIX_LIBC(0x7ffff7e0a0e0, "malloc")
#define fix_mmap FIX_LIBC(0x7ffff7e8b2a0, "mmap")
#define fix_start FIX_LIBC(0x7ffff7da9d90, "__libc_start_call_main")
#define fix_main FIX_EXE(0x555555555300, "main", 60)

static const struct mt_frame fix_s1[] = {
	fix_malloc, FIX_EXE(0x555555555189, "leak_buffers", 21),
	FIX_EXE(0x555555555220, "run_server", 40), fix_main, fix_start,
};
static const struct mt_frame fix_s2[] = {
	fix_malloc, FIX_EXE(0x5555555551a4, "leak_buffers", 25),
	FIX_EXE(0x555555555260, "retry_loop", 52), fix_main, fix_start,
};
static const struct mt_frame fix_s3[] = {
	fix_malloc, FIX_EXE(0x5555555551f0, "handle_request", 30),
	FIX_EXE(0x555555555230, "run_server", 41), fix_main, fix_start,
};
static const struct mt_frame fix_s4[] = {
	fix_mmap, FIX_EXE(0x5555555552a0, "map_arena", 70), fix_main, fix_start,
};
static const struct mt_frame fix_s5[] = {
	fix_malloc, { .addr = 0x555555555234, .module_offset = 0x1234, .mapping = &fix_exe },
	fix_main, fix_start,
};
static const struct mt_frame fix_s6[] = {
	fix_malloc, FIX_LIBC(0x7ffff7ec0010, "operator new(unsigned long)"),
	FIX_EXE(0x555555555400, "std::vector<int, std::allocator<int> >::_M_realloc_insert", 0),
	FIX_EXE(0x555555555480, "weird;name", 90), FIX_EXE(0x555555555500, "main", 99),
};

#define FIX_N(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))

/* id, kind, outstanding bytes/blocks, allocated bytes/blocks, oldest, frames, site */
static const struct mt_stack fix_leaky_stacks[] = {
	{ 4, MT_KIND_MMAP, 8388608, 2, 16777216, 4, 1000000, FIX_N(fix_s4), fix_s4, 1 },
	{ 1, MT_KIND_HEAP, 1048576, 256, 2097152, 512, 2000000, FIX_N(fix_s1), fix_s1, 1 },
	{ 2, MT_KIND_HEAP, 524288, 128, 524288, 128, 3000000, FIX_N(fix_s2), fix_s2, 1 },
	{ 5, MT_KIND_HEAP, 4096, 1, 4096, 1, 4000000, FIX_N(fix_s5), fix_s5, 1 },
	{ 3, MT_KIND_HEAP, 0, 0, 409600, 100, 0, FIX_N(fix_s3), fix_s3, 1 },
};
static const struct mt_stack fix_cxx_stacks[] = {
	{ 6, MT_KIND_HEAP, 65536, 16, 131072, 32, 5000000, FIX_N(fix_s6), fix_s6, 2 },
};

static const struct mt_proc fix_procs[] = {
	{ .pid = 4242, .comm = "leaky", .cmdline = "./leaky --forever",
	  .kind = { [MT_KIND_HEAP] = { .allocations = 741, .frees = 356,
				       .allocated_bytes = 3035136, .freed_bytes = 1458176,
				       .outstanding_bytes = 1576960, .outstanding_allocations = 385 },
		    [MT_KIND_MMAP] = { .allocations = 4, .frees = 2, .allocated_bytes = 16777216,
				       .freed_bytes = 8388608, .outstanding_bytes = 8388608,
				       .outstanding_allocations = 2 } },
	  .nstacks = FIX_N(fix_leaky_stacks), .stacks = fix_leaky_stacks },
	{ .pid = 4343, .comm = "cxx worker",
	  .kind = { [MT_KIND_HEAP] = { .allocations = 32, .frees = 16, .allocated_bytes = 131072,
				       .freed_bytes = 65536, .outstanding_bytes = 65536,
				       .outstanding_allocations = 16 } },
	  .nstacks = FIX_N(fix_cxx_stacks), .stacks = fix_cxx_stacks },
};

static const struct mt_snapshot fix_snapshot = {
	.start_ns = 1000000, .now_ns = 5001000000, .nprocs = 2, .procs = fix_procs,
};

#endif
