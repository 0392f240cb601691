// SPDX-License-Identifier: BSD-2-Clause
/*
 * memcheck's leak check, by its documented rules, so that memtrace and valgrind can be checked
 * against each other category by category:
 *  - a root word pointing at a block's start makes it reachable; into its interior, possibly lost;
 *  - a reached block's words are followed in turn: from a reachable block as from a root, from a
 *    possibly lost one only to "possibly" (an interior pointer anywhere on the path taints it);
 *  - memcheck's heuristics (all on by default) take some interior pointers as start pointers:
 *    std::string's, a 64-bit length prefix, new[]'s element count, multiple inheritance;
 *  - what nothing reaches is lost. In address order, each lost block not yet claimed leads a
 *    clique: it is definitely lost, and every unreached block it leads to (through any pointer)
 *    is indirectly lost, its bytes counted behind the leader.
 * Pointers are aligned words, as memcheck reads them.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/util.h"
#include "model/leakcheck.h"

enum state { UNREACHED, POSSIBLE, REACHABLE, INDIRECT };

enum heuristic { H_NONE, H_STDSTRING, H_LENGTH64, H_NEWARRAY, H_INHERITANCE };

/* memcheck reads at most this many words of a would-be vtable, wanting two function pointers. */
#define VTABLE_WORDS 21
#define PAGE0 4096	/* no vtable in the first page: small integers are not looked up */

struct leakcheck {
	const struct leak_block *b;
	size_t n;
	const struct leak_map *maps;
	size_t nmaps;
	leak_read_fn read;
	void *ctx;
	uint8_t *state;		/* enum state, by block */
	uint8_t *pending;	/* on the mark stack */
	uint8_t *heuristic;	/* enum heuristic that last reached it */
	uint64_t *behind;	/* a clique leader's indirectly lost bytes */
	size_t *stack, top;	/* the mark stack: blocks whose words are yet to be followed */
	uint64_t lo, hi;	/* every block lies in [lo, hi) */
	uint64_t root_bytes;
};

struct leakcheck *leakcheck__new(const struct leak_block *blocks, size_t n, const struct leak_map *maps,
				 size_t nmaps, leak_read_fn read, void *ctx)
{
	struct leakcheck *l = xcalloc(1, sizeof(*l));

	l->b = blocks;
	l->n = n;
	l->maps = maps;
	l->nmaps = nmaps;
	l->read = read;
	l->ctx = ctx;
	l->state = xcalloc(n + 1, 1);
	l->pending = xcalloc(n + 1, 1);
	l->heuristic = xcalloc(n + 1, 1);
	l->behind = xcalloc(n + 1, sizeof(*l->behind));
	l->stack = xcalloc(n + 1, sizeof(*l->stack));
	l->lo = n ? blocks[0].addr : 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t end = blocks[i].addr + (blocks[i].size ? blocks[i].size : 1);

		l->hi = end > l->hi ? end : l->hi;
	}
	return l;
}

void leakcheck__free(struct leakcheck *l)
{
	if (!l)
		return;
	free(l->state);
	free(l->pending);
	free(l->heuristic);
	free(l->behind);
	free(l->stack);
	free(l);
}

/*
 * The block ptr points into, or false. A block of size 0 counts as one byte, as in memcheck:
 * else nothing could point to it and malloc(0) would always look lost.
 */
static bool find(const struct leakcheck *l, uint64_t ptr, size_t *at)
{
	size_t lo = 0, hi = l->n;
	const struct leak_block *b;

	if (ptr - l->lo >= l->hi - l->lo)	/* most words are no heap address at all */
		return false;
	while (lo < hi) {	/* the first block starting above ptr */
		size_t mid = lo + (hi - lo) / 2;

		if (l->b[mid].addr <= ptr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	b = &l->b[lo - 1];
	if (ptr - b->addr >= (b->size ? b->size : 1))
		return false;
	*at = lo - 1;
	return true;
}

static const struct leak_map *map_of(const struct leakcheck *l, uint64_t addr)
{
	size_t lo = 0, hi = l->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < l->maps[mid].start)
			hi = mid;
		else if (addr >= l->maps[mid].end)
			lo = mid + 1;
		else
			return &l->maps[mid];
	}
	return NULL;
}

/* The block's aligned word at off, when the block holds all of it. */
static bool word_at(const struct leak_block *b, uint64_t off, uint64_t *w)
{
	if (!b->data || off > b->size || b->size - off < 8)
		return false;
	memcpy(w, b->data + off, 8);
	return true;
}

/*
 * memcheck's test for a vtable: in a readable file mapping, and among its first words (nulls
 * skipped) two that point into executable file mappings, before any that does not.
 */
static bool is_vtable(const struct leakcheck *l, uint64_t ptr)
{
	const struct leak_map *m = map_of(l, ptr), *f;
	uint64_t words[VTABLE_WORDS], last;
	size_t n, fns = 0;

	if (!m || (m->flags & (LEAK_MAP_FILE | LEAK_MAP_READ)) != (LEAK_MAP_FILE | LEAK_MAP_READ) ||
	    !l->read || m->end - ptr < 16)
		return false;
	last = ptr + (VTABLE_WORDS - 1) * 8 < m->end - 16 ? ptr + (VTABLE_WORDS - 1) * 8 : m->end - 16;
	n = (last - ptr) / 8 + 1;
	if (l->read(l->ctx, ptr, words, n * 8))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!words[i])
			continue;
		f = map_of(l, words[i]);
		if (!f || (f->flags & (LEAK_MAP_FILE | LEAK_MAP_EXEC)) != (LEAK_MAP_FILE | LEAK_MAP_EXEC))
			return false;
		if (++fns == 2)
			return true;
	}
	return false;
}

/* Does an interior pointer look like one of the idioms that keep a block alive (memcheck's)? */
static enum heuristic heuristic(const struct leakcheck *l, uint64_t ptr, const struct leak_block *b)
{
	uint64_t off = ptr - b->addr, w0, w1;

	/* libstdc++'s old std::string: length, capacity, refcount, then the characters. */
	if (off == 24 && word_at(b, 8, &w1) && 24 + w1 + 1 == b->size && word_at(b, 0, &w0) && w0 <= w1)
		return H_STDSTRING;
	/* The size of the rest in front (sqlite's allocator does this). */
	if (off == 8 && word_at(b, 0, &w0) && w0 > 0 && b->size - 8 == w0)
		return H_LENGTH64;
	/* new T[n] of a T with a destructor: n in front of the elements. */
	if (off == 8 && word_at(b, 0, &w0) && w0 > 0 && (b->size - 8) % w0 == 0)
		return H_NEWARRAY;
	/* A pointer to a base class's part: a vtable pointer there and at the start. */
	if (!(ptr & 7) && word_at(b, off, &w1) && !(w1 & 7) && w1 >= PAGE0 && word_at(b, 0, &w0) &&
	    !(w0 & 7) && w0 >= PAGE0 && is_vtable(l, w1) && is_vtable(l, w0))
		return H_INHERITANCE;
	return H_NONE;
}

static void push(struct leakcheck *l, size_t i)
{
	if (l->pending[i])
		return;
	l->pending[i] = 1;
	l->stack[l->top++] = i;
}

/*
 * A pointer found in a root (definite) or in a reached block (definite when that block is
 * reachable): upgrade what it points to, and follow the block again when it changed.
 */
static void reach(struct leakcheck *l, uint64_t ptr, bool definite)
{
	size_t i;
	bool start;

	if (!find(l, ptr, &i))
		return;
	start = ptr == l->b[i].addr;
	if (l->state[i] == REACHABLE) {
		if (start)	/* reached properly after all: not thanks to a heuristic */
			l->heuristic[i] = H_NONE;
		return;
	}
	if (!start) {
		l->heuristic[i] = heuristic(l, ptr, &l->b[i]);
		start = l->heuristic[i] != H_NONE;
	}
	if (start && definite) {
		l->state[i] = REACHABLE;
		push(l, i);
	} else if (l->state[i] == UNREACHED) {
		l->state[i] = POSSIBLE;
		push(l, i);
	}
}

static uint64_t word(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Every aligned word of [addr, addr + len) found as a pointer. */
static void reach_words(struct leakcheck *l, uint64_t addr, const uint8_t *data, uint64_t len,
			bool definite)
{
	uint64_t a = (addr + 7) & ~7ull, end = (addr + len) & ~7ull;

	for (; a < end; a += 8)
		reach(l, word(data + (a - addr)), definite);
}

void leakcheck__root_word(struct leakcheck *l, uint64_t w) { reach(l, w, true); }

/* The first block that ends above addr. */
static size_t first_after(const struct leakcheck *l, uint64_t addr)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->b[mid].addr + l->b[mid].size <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Known blocks are skipped: their words count only once the block is reached. */
void leakcheck__root_memory(struct leakcheck *l, uint64_t addr, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t end = addr + len;

	for (size_t i = first_after(l, addr); addr < end; i++) {
		uint64_t gap_end = i < l->n && l->b[i].addr < end ? l->b[i].addr : end;

		if (gap_end > addr) {
			reach_words(l, addr, p, gap_end - addr, true);
			l->root_bytes += gap_end - addr;
		}
		if (gap_end == end)
			break;
		gap_end = l->b[i].addr + l->b[i].size < end ? l->b[i].addr + l->b[i].size : end;
		p += gap_end - addr;
		addr = gap_end;
	}
}

/* Follow every block on the mark stack, and every block that makes it push. */
static void mark(struct leakcheck *l)
{
	while (l->top) {
		size_t i = l->stack[--l->top];

		l->pending[i] = 0;
		if (l->b[i].data)
			reach_words(l, l->b[i].addr, l->b[i].data, l->b[i].size,
				    l->state[i] != POSSIBLE);
	}
}

/* Block i of the clique led by leader: the unreached blocks it points to join it. */
static void gather(struct leakcheck *l, size_t leader, size_t i)
{
	const struct leak_block *b = &l->b[i];
	uint64_t a = (b->addr + 7) & ~7ull, end = (b->addr + b->size) & ~7ull;

	for (; b->data && a < end; a += 8) {
		size_t k;

		if (!find(l, word(b->data + (a - b->addr)), &k) || l->state[k] != UNREACHED ||
		    k == leader)
			continue;
		push(l, k);
		l->behind[leader] += l->b[k].size + l->behind[k];	/* a former leader's clique too */
		l->behind[k] = 0;
		l->state[k] = INDIRECT;
	}
}

void leakcheck__finish(struct leakcheck *l)
{
	mark(l);
	for (size_t i = 0; i < l->n; i++) {
		if (l->state[i] != UNREACHED)
			continue;
		push(l, i);
		while (l->top) {
			size_t j = l->stack[--l->top];

			l->pending[j] = 0;
			gather(l, i, j);
		}
	}
}

enum mt_leak_kind leakcheck__kind(const struct leakcheck *l, size_t i)
{
	static const enum mt_leak_kind kinds[] = {
		[UNREACHED] = MT_LEAK_DEFINITE, [POSSIBLE] = MT_LEAK_POSSIBLE,
		[REACHABLE] = MT_LEAK_REACHABLE, [INDIRECT] = MT_LEAK_INDIRECT,
	};

	return kinds[l->state[i]];
}

uint64_t leakcheck__behind(const struct leakcheck *l, size_t i) { return l->behind[i]; }

bool leakcheck__by_heuristic(const struct leakcheck *l, size_t i)
{
	return l->state[i] == REACHABLE && l->heuristic[i] != H_NONE;
}

uint64_t leakcheck__root_bytes(const struct leakcheck *l) { return l->root_bytes; }

/* Where a root mapping's scan starts: at the lowest stack pointer in it, less the red zone. */
static uint64_t scan_start(const struct leak_map *m, const uint64_t *sps, size_t nsps)
{
	uint64_t start = m->start;
	bool stack = false;

	for (size_t i = 0; i < nsps; i++) {
		uint64_t from = sps[i] >= 128 ? (sps[i] - 128) & ~7ull : 0;

		if (sps[i] < m->start || sps[i] >= m->end)
			continue;
		start = !stack || from < start ? from : start;
		stack = true;
	}
	return start > m->start ? start : m->start;
}

size_t leakcheck__roots(const struct leak_map *maps, size_t nmaps, const uint64_t *sps, size_t nsps,
			bool all_blocks_known, struct leak_range **out)
{
	struct leak_range *r = xcalloc(nmaps + 1, sizeof(*r));
	size_t n = 0;

	for (size_t i = 0; i < nmaps; i++) {
		const struct leak_map *m = &maps[i];
		bool rw = (m->flags & (LEAK_MAP_READ | LEAK_MAP_WRITE)) == (LEAK_MAP_READ | LEAK_MAP_WRITE);

		if ((!rw && !(m->flags & LEAK_MAP_RELRO)) || (m->flags & LEAK_MAP_DEVICE))
			continue;
		/* Free chunks hold stale pointers: no roots. Another mapping holding a block (an
		 * mmapped chunk) is one: the kernel merges it with its anonymous neighbours (Python's
		 * arenas, say), and the block itself is left out when scanned. */
		if ((m->flags & LEAK_MAP_HEAP) && all_blocks_known)
			continue;
		r[n].start = scan_start(m, sps, nsps);
		r[n++].end = m->end;
	}
	*out = r;
	return n;
}

struct collect {
	struct leak_block *b;
	size_t n;
};

static int collect_block(uint64_t addr, void *value, void *ctx)
{
	const struct agg_block *ab = value;
	struct collect *c = ctx;

	c->b[c->n++] = (struct leak_block){ addr, ab->size, ab->stack, NULL };
	return 0;
}

static int by_addr(const void *x, const void *y)
{
	const struct leak_block *a = x, *b = y;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

long leakcheck__blocks(const struct agg_proc *p, struct leak_block **out)
{
	struct collect c = { xcalloc(htab__count(p->blocks) + 1, sizeof(*c.b)), 0 };

	htab__each(p->blocks, collect_block, &c);
	qsort(c.b, c.n, sizeof(*c.b), by_addr);
	*out = c.b;
	for (size_t i = 1; i < c.n; i++)
		if (c.b[i - 1].addr + c.b[i - 1].size > c.b[i].addr)
			return -1;
	return (long)c.n;
}

void leakcheck__tally(const struct leakcheck *l, struct agg *a, struct agg_proc *p)
{
	struct mt_leak_check *c = &p->leak;

	for (size_t i = 0; i < l->n; i++) {
		enum mt_leak_kind k = leakcheck__kind(l, i);

		agg__leak_verdict(a, l->b[i].stack, k, l->b[i].size, l->behind[i]);
		c->kind[k].bytes += l->b[i].size;
		c->kind[k].blocks++;
		if (leakcheck__by_heuristic(l, i)) {
			c->heuristic.bytes += l->b[i].size;
			c->heuristic.blocks++;
		}
	}
	c->done = true;
}
