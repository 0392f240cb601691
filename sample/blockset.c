// SPDX-License-Identifier: BSD-2-Clause
/*
 * The set of live sampled blocks. Every free() asks it "was this block sampled?", and almost all
 * answers are no, so the question must be cheap: a table of counters (a counting Bloom filter with
 * one hash) answers no with one load and no lock for any address whose counter is 0. Only a
 * sampled block, or an unsampled one sharing its counter, goes on to a locked shard: an
 * open-addressing table, grown by doubling, whose memory comes from glibc's allocator directly
 * (never through our own wrappers).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "blockset.h"

void *__libc_calloc(size_t n, size_t size);
void __libc_free(void *p);

#define FILTER_BITS 16
#define NSHARDS 64
#define MIN_SLOTS 64

/* With 2000 live sampled blocks (1 GiB at 512 KiB) 3% of frees take a shard's lock. */
static _Atomic uint32_t filter[1u << FILTER_BITS];

struct shard {
	pthread_mutex_t lock;
	uintptr_t *slots;	/* 0 = empty; linear probing, kept at most half full */
	size_t cap, n;
} __attribute__((aligned(64)));	/* one cache line each: threads on different shards do not share */

static struct shard shards[NSHARDS];

/* malloc's blocks are 16-byte aligned: the low bits carry nothing. */
static uint64_t hash(uintptr_t addr) { return (uint64_t)(addr >> 4) * 0x9e3779b97f4a7c15ull; }
static _Atomic uint32_t *counter(uint64_t h) { return &filter[h >> (64 - FILTER_BITS)]; }
static struct shard *shard_of(uint64_t h) { return &shards[h & (NSHARDS - 1)]; }
static size_t home(const struct shard *s, uint64_t h) { return (h >> 20) & (s->cap - 1); }

static void put(struct shard *s, uintptr_t addr)
{
	size_t i = home(s, hash(addr));

	while (s->slots[i])
		i = (i + 1) & (s->cap - 1);
	s->slots[i] = addr;
	s->n++;
}

static bool grow(struct shard *s)
{
	size_t old_cap = s->cap, cap = old_cap ? old_cap * 2 : MIN_SLOTS;
	uintptr_t *old = s->slots, *slots = __libc_calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	s->slots = slots;
	s->cap = cap;
	s->n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			put(s, old[i]);
	__libc_free(old);
	return true;
}

bool blockset__add(uintptr_t addr)
{
	uint64_t h = hash(addr);
	struct shard *s = shard_of(h);
	bool ok = true;

	pthread_mutex_lock(&s->lock);
	if (2 * (s->n + 1) > s->cap)
		ok = grow(s);
	if (ok)
		put(s, addr);
	pthread_mutex_unlock(&s->lock);
	/* Counted after it is in: a thread that frees it got it from us, after this. */
	if (ok)
		atomic_fetch_add_explicit(counter(h), 1, memory_order_release);
	return ok;
}

/* Backward-shift deletion: later entries of the probe run move up, so no tombstones pile up. */
static void delete_at(struct shard *s, size_t i)
{
	size_t j = i;

	for (;;) {
		j = (j + 1) & (s->cap - 1);
		if (!s->slots[j])
			break;
		size_t k = home(s, hash(s->slots[j]));
		/* Move slots[j] into the hole unless its home lies cyclically in (i, j]. */
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i] = 0;
	s->n--;
}

bool blockset__remove(uintptr_t addr)
{
	uint64_t h = hash(addr);
	struct shard *s;
	bool found = false;

	if (!atomic_load_explicit(counter(h), memory_order_acquire))
		return false;
	s = shard_of(h);
	pthread_mutex_lock(&s->lock);
	for (size_t i = s->cap ? home(s, h) : 0; s->cap && s->slots[i]; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == addr) {
			delete_at(s, i);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (found)
		atomic_fetch_sub_explicit(counter(h), 1, memory_order_relaxed);
	return found;
}

static void lock_all(void)
{
	for (int i = 0; i < NSHARDS; i++)
		pthread_mutex_lock(&shards[i].lock);
}

static void unlock_all(void)
{
	for (int i = 0; i < NSHARDS; i++)
		pthread_mutex_unlock(&shards[i].lock);
}

/* A child forked while another thread held a shard would wait on it forever. */
void blockset__init(void)
{
	/* The locks need no init: all-zero is PTHREAD_MUTEX_INITIALIZER, so malloc works before this. */
	pthread_atfork(lock_all, unlock_all, unlock_all);
}
