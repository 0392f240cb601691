// SPDX-License-Identifier: BSD-2-Clause
/*
 * Known leaks through C++ operator new in its plain, array, nothrow and aligned forms, and churn
 * through new/delete (sized and unsized) that frees everything. More leak sites are named the
 * ways C++ names functions: in a namespace, a class template's member, a lambda, an operator.
 * tests/integration/reach_allocators.sh, reach_follow.sh, reach_all.sh and frames_cxx.sh hold
 * the expected numbers: change them together.
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

namespace store {
__attribute__((noinline)) void leak_in_namespace()	/* 2 x 300 = 600 B */
{
	for (int i = 0; i < 2; i++)
		keep(new char[300]);
}
}

struct Big { char bytes[1500]; };

template <typename T, int N> struct Pool {
	__attribute__((noinline)) void fill()		/* Pool<Big, 2>: 2 x 1500 = 3000 B */
	{
		for (int i = 0; i < N; i++)
			keep(new T);
	}
};

__attribute__((noinline)) void leak_lambda()		/* 4 x 250 = 1000 B, in the lambda */
{
	auto grab = [](int n) __attribute__((noinline)) { keep(new char[n]); };

	for (int i = 0; i < 4; i++)
		grab(250);
}

struct Bag {
	__attribute__((noinline)) Bag &operator+=(int size)	/* 2 x 350 = 700 B */
	{
		keep(new char[size]);
		return *this;
	}
};

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
	store::leak_in_namespace();
	Pool<Big, 2>().fill();
	leak_lambda();
	Bag bag;
	bag += 350;
	bag += 350;
	churn();
	std::printf("cxx_leaky done\n");
	return 0;
}
