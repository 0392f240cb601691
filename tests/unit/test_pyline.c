// SPDX-License-Identifier: BSD-2-Clause
/*
 * pyline: CPython 3.11's location table, as Debian's python3.11 compiled this function (line 1
 * is its def), against the lines co_lines() gives for every instruction:
 *
 *   def sample(n):
 *       total = 0
 *       for i in range(n):
 *           if i % 3 == 0:
 *               total += i * 2
 *           else:
 *               total -= 1
 *       data = [x for x in range(n)
 *               if x > 2]
 *       return total, data
 */
#include <stdint.h>
#include <stdio.h>

#include "symbolize/pyline.h"
#include "tap.h"

static const uint8_t table[] = {128, 0, 216, 12, 13, 128, 69, 221, 13, 18, 144, 49, 137, 88, 140, 88, 240, 0, 4, 5, 23, 240, 0, 4, 5, 23, 136, 1, 216, 11, 12, 136, 113, 137, 53, 144, 65, 138, 58, 136, 58, 216, 12, 17, 144, 81, 152, 17, 145, 85, 137, 78, 136, 69, 136, 69, 224, 12, 17, 144, 81, 137, 74, 136, 69, 136, 69, 240, 2, 1, 12, 22, 240, 0, 1, 12, 22, 149, 117, 152, 81, 145, 120, 148, 120, 240, 0, 1, 12, 22, 241, 0, 1, 12, 22, 244, 0, 1, 12, 22, 128, 68, 224, 11, 16, 144, 36, 136, 59, 208, 4, 22};
static const int firstlineno = 1;
static const int expect[] = {1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 10, 10, 10, 10};

int main(void)
{
	size_t n = sizeof(expect) / sizeof(expect[0]);
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		if (pyline__find(table, sizeof(table), firstlineno, i) != expect[i]) {
			printf("#   instruction %zu: got %d, want %d\n", i,
			       pyline__find(table, sizeof(table), firstlineno, i), expect[i]);
			bad++;
		}
	ok(bad == 0, "every one of %zu instructions maps to co_lines()'s line", n);
	ok(pyline__find(table, sizeof(table), firstlineno, n + 8) == -1, "past the table: no line");
	ok(pyline__find(table, 3, firstlineno, n - 1) == -1, "a cut table gives no line, not a wrong one");
	{
		/* Long form (code 14): line delta +300 (svarint 600 = 0x58 0x49 in 6-bit chunks). */
		static const uint8_t longform[] = { 0x80 | 14 << 3, 0x40 | (600 & 63), 600 >> 6, 0, 1, 1 };
		static const uint8_t none[] = { 0x80 | 15 << 3 | 1 };

		is_u64(pyline__find(longform, sizeof(longform), 10, 0), 310, "long form moves the line by +300");
		ok(pyline__find(none, sizeof(none), 10, 1) == -1, "no-location entries give no line");
	}
	return done_testing();
}
