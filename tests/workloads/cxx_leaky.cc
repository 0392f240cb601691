// SPDX-License-Identifier: BSD-2-Clause
/*
 * Known leaks through C++ operator new in its plain, array, nothrow and aligned forms, and churn
 * through new/delete (sized and unsized) that frees everything. tests/integration/reach_cxx.sh
 * and reach_allocators.sh hold the expected numbers: change them together.
 * Usage: cxx_leaky   (prints "cxx_leaky done" on stdout)
 */
#include <cstdio>
#include <cstdlib>
#include <new>

void *volatile sink[64];
static int nsink;

static void keep(void *p) { sink[nsink++ % 60] = p; }

struct Obj { char bytes[200]; };
struct alignas(64) Aligned { char bytes[128]; };

__attribute__((noinline)) void leak_new()		/* 5 x 200 = 1000 B */
{
	for (int i = 0; i < 5; i++)
		keep(new Obj);
}

__attribute__((noinline)) void leak_new_array()	/* 3 x 3000 = 9000 B */
{
	for (int i = 0; i < 3; i++)
		keep(new char[3000]);
}

__attribute__((noinline)) void leak_new_nothrow()	/* 2 x 700 = 1400 B */
{
	for (int i = 0; i < 2; i++)
		keep(new (std::nothrow) char[700]);
}

__attribute__((noinline)) void leak_new_aligned()	/* 2 x 128 = 256 B, operator new(size, align) */
{
	for (int i = 0; i < 2; i++)
		keep(new Aligned);
}

__attribute__((noinline)) void leak_cxx_malloc()	/* 4 x 500 = 2000 B, plain malloc in C++ */
{
	for (int i = 0; i < 4; i++)
		keep(malloc(500));
}

__attribute__((noinline)) void churn()		/* 3000 blocks through new/delete, none kept */
{
	for (int i = 0; i < 1000; i++) {
		Obj *o = new Obj;		/* delete of a complete type: sized delete */
		char *a = new char[64 + i % 64];	/* delete[] of char: unsized */
		Aligned *al = new Aligned;	/* aligned sized delete */

		sink[63] = o;
		sink[62] = a;
		sink[61] = al;
		delete o;
		delete[] a;
		delete al;
	}
}

int main()
{
	leak_new();
	leak_new_array();
	leak_new_nothrow();
	leak_new_aligned();
	leak_cxx_malloc();
	churn();
	std::printf("cxx_leaky done\n");
	return 0;
}
