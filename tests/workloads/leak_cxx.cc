// SPDX-License-Identifier: BSD-2-Clause
/*
 * C++ blocks in memcheck's categories, through new, new[] and delete, and the interior pointers
 * its heuristics accept. tests/integration/leak_kinds.sh holds the expected numbers.
 *   definitely lost  lost_object 1 x 120 B (new), lost_array 1 x 3000 B (new char[])
 *   still reachable  kept_derived 1 x 40 B, reached through a pointer to its second base
 *                    (multipleinheritance), kept_counted 8 + 5 x 16 B, through new[]'s pointer
 *                    past the element count (newarray), kept_vector 10 x 8 B (std::vector)
 *   freed            churn: 1000 new/delete pairs, nothing left
 * Usage: leak_cxx
 */
#include <cstdlib>
#include <cstring>
#include <vector>

struct Lost { char bytes[120]; };

struct Left { virtual ~Left() {} long l = 1; };
struct Right { virtual ~Right() {} long r = 2; };
struct Derived : Left, Right { long d = 3; };	/* 40 bytes: two vtable pointers, three longs */

struct Counted {	/* a destructor: new[] keeps the count in front of the elements */
	~Counted() { v = 0; }
	long v = 7, w = 8;
};

Right *volatile right_part;		/* points 16 bytes into a Derived */
Counted *volatile counted;		/* points 8 bytes into its block */
std::vector<long> *volatile vec;
void *volatile sink;

__attribute__((noinline)) void lost_object() { sink = new Lost(); sink = nullptr; }
__attribute__((noinline)) void lost_array() { sink = new char[3000](); sink = nullptr; }
__attribute__((noinline)) void kept_derived() { right_part = new Derived(); }
__attribute__((noinline)) void kept_counted() { counted = new Counted[5]; }
__attribute__((noinline)) void kept_vector()
{
	vec = new std::vector<long>(10, 5);	/* the vector (24 B, reached) and its 80 B */
}

__attribute__((noinline)) void churn()
{
	for (int i = 0; i < 1000; i++) {
		Lost *l = new Lost();

		sink = l;
		delete l;
	}
	sink = nullptr;
}

__attribute__((noinline)) static void scrub()
{
	volatile char buf[64 * 1024];

	memset(const_cast<char *>(buf), 0, sizeof(buf));
}

int main()
{
	lost_object();
	lost_array();
	kept_derived();
	kept_counted();
	kept_vector();
	churn();
	scrub();
	exit(0);
}
