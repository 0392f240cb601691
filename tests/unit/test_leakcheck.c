// SPDX-License-Identifier: BSD-2-Clause
/*
 * memcheck's leak categories on hand-made memory: start and interior pointers, paths through
 * possibly lost blocks, cliques (and their order), each heuristic, roots that skip known blocks,
 * and which mappings are roots.
 */
#include <stdlib.h>
#include <string.h>

#include "model/leakcheck.h"
#include "tap.h"

#define BASE 0x10000000ull

/* A heap image: blocks at BASE + offset, their bytes in one buffer. */
struct image {
	uint8_t mem[4096];
	struct leak_block b[16];
	size_t n;
};

static size_t add(struct image *im, uint64_t off, uint64_t size)
{
	im->b[im->n] = (struct leak_block){ BASE + off, size, (uint32_t)im->n, im->mem + off };
	return im->n++;
}

static void put(struct image *im, uint64_t off, uint64_t value) { memcpy(im->mem + off, &value, 8); }

static const char *name(enum mt_leak_kind k)
{
	static const char *const names[] = { "definite", "indirect", "possible", "reachable" };

	return names[k];
}

static void is_kind(const struct leakcheck *l, size_t i, enum mt_leak_kind want, const char *what)
{
	enum mt_leak_kind got = leakcheck__kind(l, i);

	if (!ok(got == want, "%s: %s", what, name(want)))
		printf("#   got %s\n", name(got));
}

/*
 * A (0) start-pointed from a root, C (0x100) only from A: reachable. B (0x200) interior-pointed
 * from a root: possibly lost, and D (0x300), start-pointed only from B, too. F (0x500) unpointed,
 * E (0x400) only from F: definitely and indirectly lost. G (0x600): nothing, definitely lost.
 */
static void categories(void)
{
	struct image im = { 0 };
	uint64_t roots[3] = { BASE, BASE + 0x210, 42 };
	struct leakcheck *l;

	add(&im, 0x000, 64);
	add(&im, 0x100, 32);
	add(&im, 0x200, 64);
	add(&im, 0x300, 16);
	add(&im, 0x400, 48);
	add(&im, 0x500, 40);
	add(&im, 0x600, 24);
	put(&im, 0x008, BASE + 0x100);	/* A -> C */
	put(&im, 0x210, BASE + 0x300);	/* B -> D */
	put(&im, 0x500, BASE + 0x400);	/* F -> E */
	l = leakcheck__new(im.b, im.n, NULL, 0, NULL, NULL);
	leakcheck__root_memory(l, 0x7000, roots, sizeof(roots));
	leakcheck__finish(l);
	is_kind(l, 0, MT_LEAK_REACHABLE, "start pointer in a root");
	is_kind(l, 1, MT_LEAK_REACHABLE, "start pointer in a reachable block");
	is_kind(l, 2, MT_LEAK_POSSIBLE, "interior pointer in a root");
	is_kind(l, 3, MT_LEAK_POSSIBLE, "start pointer in a possibly lost block");
	is_kind(l, 4, MT_LEAK_INDIRECT, "pointed to from a lost block only");
	is_kind(l, 5, MT_LEAK_DEFINITE, "no pointer at all");
	is_kind(l, 6, MT_LEAK_DEFINITE, "no pointer, no children");
	is_u64(leakcheck__behind(l, 5), 48, "F's clique holds E's 48 bytes");
	is_u64(leakcheck__behind(l, 6), 0, "G's clique holds nothing");
	is_u64(leakcheck__root_bytes(l), 24, "24 bytes of roots scanned");
	leakcheck__free(l);
}

/*
 * A list whose head went: H (0x300) -> N1 (0x000) -> N2 (0x100) -> N3 (0x200). The nodes come
 * first in address order and lead cliques of their own until H takes them over: one definitely
 * lost block with 3 indirectly lost behind it, as valgrind reports a lost list.
 */
static void list_head_lost(void)
{
	struct image im = { 0 };
	struct leakcheck *l;

	add(&im, 0x000, 16);
	add(&im, 0x100, 16);
	add(&im, 0x200, 16);
	add(&im, 0x300, 16);
	put(&im, 0x300, BASE + 0x000);
	put(&im, 0x000, BASE + 0x100);
	put(&im, 0x100, BASE + 0x200);
	l = leakcheck__new(im.b, im.n, NULL, 0, NULL, NULL);
	leakcheck__finish(l);
	is_kind(l, 3, MT_LEAK_DEFINITE, "the head");
	for (size_t i = 0; i < 3; i++)
		is_kind(l, i, MT_LEAK_INDIRECT, "node behind the head");
	is_u64(leakcheck__behind(l, 3), 48, "the head's clique holds the 3 nodes");
	is_u64(leakcheck__behind(l, 0), 0, "a node taken over leads nothing");
	leakcheck__free(l);
}

/* A cycle nobody points to: the lower address leads (memcheck's order), the other is behind it. */
static void cycle(void)
{
	struct image im = { 0 };
	struct leakcheck *l;

	add(&im, 0x000, 32);
	add(&im, 0x100, 64);
	put(&im, 0x000, BASE + 0x100);
	put(&im, 0x100, BASE + 0x000);
	l = leakcheck__new(im.b, im.n, NULL, 0, NULL, NULL);
	leakcheck__finish(l);
	is_kind(l, 0, MT_LEAK_DEFINITE, "cycle: lower address leads");
	is_kind(l, 1, MT_LEAK_INDIRECT, "cycle: the other follows");
	is_u64(leakcheck__behind(l, 0), 64, "cycle: leader's clique");
	leakcheck__free(l);
}

/*
 * B (0x100) is first reached through an interior pointer, then by its start: reachable, and
 * C (0x200), which only B points to, is followed again and becomes reachable too. A register
 * (root word) does it. A 0-size block (0x300) counts as one byte: pointed to, it is reachable.
 */
static void upgrade_and_zero(void)
{
	struct image im = { 0 };
	uint64_t root = BASE + 0x108;
	struct leakcheck *l;

	add(&im, 0x100, 32);
	add(&im, 0x200, 32);
	add(&im, 0x300, 0);
	put(&im, 0x100, BASE + 0x200);
	l = leakcheck__new(im.b, im.n, NULL, 0, NULL, NULL);
	leakcheck__root_memory(l, 0x8000, &root, 8);
	leakcheck__root_word(l, BASE + 0x100);
	leakcheck__root_word(l, BASE + 0x300);
	leakcheck__root_word(l, BASE + 0x301);	/* just past it: no block */
	leakcheck__finish(l);
	is_kind(l, 0, MT_LEAK_REACHABLE, "interior pointer, then a start pointer");
	is_kind(l, 1, MT_LEAK_REACHABLE, "its child followed again");
	is_kind(l, 2, MT_LEAK_REACHABLE, "a 0-byte block pointed to");
	leakcheck__free(l);
}

/* A root range over a heap with known blocks: the blocks' own words are not roots. */
static void roots_skip_blocks(void)
{
	struct image im = { 0 };
	struct leakcheck *l;

	add(&im, 0x100, 16);	/* K: points to L, is in the scanned range */
	add(&im, 0x200, 16);	/* L */
	put(&im, 0x100, BASE + 0x200);
	put(&im, 0x0f8, BASE + 0x200 + 8);	/* just before K, outside any block: a root */
	l = leakcheck__new(im.b, im.n, NULL, 0, NULL, NULL);
	leakcheck__root_memory(l, BASE + 0x0f0, im.mem + 0x0f0, 0x30);
	leakcheck__finish(l);
	is_kind(l, 0, MT_LEAK_DEFINITE, "a block inside a root range is not a root");
	is_kind(l, 1, MT_LEAK_POSSIBLE, "the word beside it is");
	is_u64(leakcheck__root_bytes(l), 0x20, "16 bytes before K and 16 after it scanned");
	leakcheck__free(l);
}

/* Each heuristic turns one interior pointer into a start pointer; none from a possible block. */
static void heuristics(void)
{
	struct image im = { 0 };
	uint64_t roots[4] = { BASE + 0x018, BASE + 0x108, BASE + 0x208, BASE + 0x318 };
	struct leakcheck *l;

	add(&im, 0x000, 24 + 10 + 1);	/* std::string: length 5, capacity 10 */
	put(&im, 0x000, 5);
	put(&im, 0x008, 10);
	add(&im, 0x100, 8 + 40);	/* length64: 40 bytes follow */
	put(&im, 0x100, 40);
	add(&im, 0x200, 8 + 3 * 16);	/* new[] of 3 elements of 16 bytes */
	put(&im, 0x200, 3);
	add(&im, 0x300, 64);		/* interior pointer, no idiom */
	put(&im, 0x300, 7);
	l = leakcheck__new(im.b, im.n, NULL, 0, NULL, NULL);
	leakcheck__root_memory(l, 0x9000, roots, sizeof(roots));
	leakcheck__finish(l);
	is_kind(l, 0, MT_LEAK_REACHABLE, "stdstring heuristic");
	ok(leakcheck__by_heuristic(l, 0), "stdstring: counted as reached by heuristic");
	is_kind(l, 1, MT_LEAK_REACHABLE, "length64 heuristic");
	is_kind(l, 2, MT_LEAK_REACHABLE, "newarray heuristic");
	is_kind(l, 3, MT_LEAK_POSSIBLE, "no heuristic applies");
	ok(!leakcheck__by_heuristic(l, 3), "not reached by heuristic");
	leakcheck__free(l);
}

/*
 * Multiple inheritance: an object with vtable pointers at its start and at the pointed-to base
 * part, the vtables in a read-only file mapping, their entries in an executable one.
 */
#define RODATA 0x400000ull
#define TEXT 0x500000ull

static uint64_t rodata[512];

static int read_rodata(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < RODATA || addr + len > RODATA + sizeof(rodata))
		return -1;
	memcpy(buf, (uint8_t *)rodata + (addr - RODATA), len);
	return 0;
}

static void inheritance(void)
{
	static const struct leak_map maps[] = {
		{ RODATA, RODATA + sizeof(rodata), LEAK_MAP_READ | LEAK_MAP_FILE },
		{ TEXT, TEXT + 0x1000, LEAK_MAP_READ | LEAK_MAP_EXEC | LEAK_MAP_FILE },
	};
	struct image im = { 0 };
	uint64_t roots[2] = { BASE + 0x010, BASE + 0x110 };
	struct leakcheck *l;

	memset(rodata, 0, sizeof(rodata));
	rodata[0] = 0;		/* offset-to-top style null, skipped */
	rodata[1] = TEXT + 0x10;
	rodata[2] = TEXT + 0x20;
	rodata[8] = TEXT + 0x30;
	rodata[9] = TEXT + 0x40;
	rodata[16] = RODATA;	/* a "vtable" whose entries are data: not one */
	rodata[17] = RODATA;
	add(&im, 0x000, 32);
	put(&im, 0x000, RODATA + 0 * 8);	/* primary vtable */
	put(&im, 0x010, RODATA + 8 * 8);	/* secondary base's vtable, pointed to */
	add(&im, 0x100, 32);
	put(&im, 0x100, RODATA + 0 * 8);
	put(&im, 0x110, RODATA + 16 * 8);
	l = leakcheck__new(im.b, im.n, maps, 2, read_rodata, NULL);
	leakcheck__root_memory(l, 0x9000, roots, sizeof(roots));
	leakcheck__finish(l);
	is_kind(l, 0, MT_LEAK_REACHABLE, "multipleinheritance heuristic");
	is_kind(l, 1, MT_LEAK_POSSIBLE, "entries that are not code: no vtable");
	leakcheck__free(l);
}

/* Mappings: which are roots, and from where a thread's stack is read. */
static void root_ranges(void)
{
	static const struct leak_map maps[] = {
		{ 0x1000, 0x2000, LEAK_MAP_READ | LEAK_MAP_EXEC | LEAK_MAP_FILE },	/* text */
		{ 0x2000, 0x3000, LEAK_MAP_READ | LEAK_MAP_FILE | LEAK_MAP_RELRO },
		{ 0x3000, 0x4000, LEAK_MAP_READ | LEAK_MAP_WRITE | LEAK_MAP_FILE },	/* .data */
		{ 0x4000, 0x8000, LEAK_MAP_READ | LEAK_MAP_WRITE | LEAK_MAP_HEAP },	/* [heap] */
		{ 0x8000, 0x9000, LEAK_MAP_READ | LEAK_MAP_WRITE },	/* holds a block: mmapped chunk */
		{ 0x9000, 0xa000, LEAK_MAP_READ | LEAK_MAP_WRITE | LEAK_MAP_DEVICE },
		{ 0xa000, 0xc000, LEAK_MAP_READ | LEAK_MAP_WRITE },	/* a stack */
		{ 0xc000, 0xd000, LEAK_MAP_READ },	/* read-only data */
	};
	uint64_t sps[2] = { 0xb100, 0x20 };
	struct leak_range *r;
	size_t n = leakcheck__roots(maps, 8, sps, 2, true, &r);

	is_u64(n, 4, "every block known: RELRO, .data, the mmapped chunk's mapping and the stack");
	if (n == 4) {
		is_u64(r[0].start, 0x2000, "RELRO");
		is_u64(r[1].start, 0x3000, ".data");
		is_u64(r[2].start, 0x8000, "the mapping holding a block (merged with others, say)");
		is_u64(r[3].start, 0xb100 - 128, "the stack from sp less the red zone");
		is_u64(r[3].end, 0xc000, "to its top");
	}
	free(r);
	n = leakcheck__roots(maps, 8, sps, 2, false, &r);
	is_u64(n, 5, "blocks from before the attach: [heap] too");
	if (n == 5)
		is_u64(r[2].start, 0x4000, "[heap]");
	free(r);
}

static void alloc(struct agg *a, uint64_t addr, uint64_t size, uint64_t frame)
{
	struct mt_event e = { .op = MT_OP_MALLOC, .pid = 7, .tid = 7, .addr = addr, .size = size,
			      .nframes = 1, .ts_ns = 1 };

	e.frames[0] = frame;
	agg__apply(a, &e);
}

/* The model's blocks, judged and tallied back by stack and into the process's totals. */
static void tally(void)
{
	struct procs *procs = procs__new();
	struct agg *a = agg__new(procs);
	struct agg_proc *p;
	struct leak_block *b;
	uint8_t mem[0x200] = { 0 };
	uint64_t root = BASE + 0x100;
	struct leakcheck *l;
	long n;

	alloc(a, BASE + 0x100, 40, 0xa);	/* reachable, stack a */
	alloc(a, BASE + 0x000, 24, 0xb);	/* lost, stack b, leads the next */
	alloc(a, BASE + 0x180, 16, 0xb);	/* indirectly lost behind it */
	memcpy(mem + 0x000, &(uint64_t){ BASE + 0x180 }, 8);
	p = agg__proc(a, 7);
	n = leakcheck__blocks(p, &b);
	is_u64(n, 3, "three live blocks");
	if (n != 3)
		return;
	ok(b[0].addr < b[1].addr && b[1].addr < b[2].addr, "sorted by address");
	for (long i = 0; i < n; i++)
		b[i].data = mem + (b[i].addr - BASE);
	l = leakcheck__new(b, (size_t)n, NULL, 0, NULL, NULL);
	leakcheck__root_word(l, root);
	leakcheck__finish(l);
	leakcheck__tally(l, a, p);
	ok(p->leak.done, "the process's check is done");
	is_u64(p->leak.kind[MT_LEAK_DEFINITE].bytes, 24, "definitely lost bytes");
	is_u64(p->leak.kind[MT_LEAK_INDIRECT].blocks, 1, "indirectly lost blocks");
	is_u64(p->leak.kind[MT_LEAK_REACHABLE].bytes, 40, "still reachable bytes");
	is_u64(agg__stack(a, b[0].stack)->leak[MT_LEAK_DEFINITE].blocks, 1, "stack b: one definitely lost");
	is_u64(agg__stack(a, b[0].stack)->leak[MT_LEAK_INDIRECT].bytes, 16, "stack b: 16 B indirectly lost");
	is_u64(agg__stack(a, b[0].stack)->leak_behind, 16, "stack b: 16 B behind its lost block");
	is_u64(agg__stack(a, b[1].stack)->leak[MT_LEAK_REACHABLE].blocks, 1, "stack a: one still reachable");
	alloc(a, BASE + 0x108, 8, 0xc);	/* inside a live block: the model missed a free */
	free(b);
	ok(leakcheck__blocks(p, &b) < 0, "overlapping blocks are refused");
	free(b);
	leakcheck__free(l);
	procs__free(procs);
	agg__free(a);
}

int main(void)
{
	categories();
	list_head_lost();
	cycle();
	upgrade_and_zero();
	roots_skip_blocks();
	heuristics();
	inheritance();
	root_ranges();
	tally();
	return done_testing();
}
