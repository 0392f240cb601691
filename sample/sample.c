// SPDX-License-Identifier: BSD-2-Clause
/*
 * libmemtrace-sample.so: Poisson sampling of the heap by bytes, in the process. Preloaded, it
 * wraps the malloc family; each thread counts down bytes to its next sample point, drawn from an
 * exponential distribution of mean MEMTRACE_SAMPLE_BYTES, so a block of s bytes is sampled with
 * probability 1 - exp(-s/T). Only sampled blocks (and the frees of sampled blocks) call the hooks
 * memtrace probes; every other call costs a subtraction, or a lookup that says no.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "blockset.h"
#include "hooks.h"

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void __libc_free(void *p);
void *__libc_memalign(size_t align, size_t size);
void *__libc_valloc(size_t size);
void *__libc_pvalloc(size_t size);

#define MT_DEFAULT_MEAN (512u << 10)
#define TLS __attribute__((tls_model("initial-exec")))
#define EXPORT __attribute__((visibility("default")))
/* Helpers that call a hook are inlined: the hook's caller must be the wrapper, rbp its frame. */
#define INLINE static inline __attribute__((always_inline))

static size_t mean_bytes;	/* T; 0 until read from the environment */
static uint64_t seed;		/* MEMTRACE_SAMPLE_SEED, or the clock */
static uint64_t nthreads;	/* threads seeded so far: each gets its own stream */

struct sampler {
	int64_t countdown;	/* bytes until the next sample point */
	uint64_t rng;		/* xorshift64* state; 0 until the thread's first allocation */
};

static __thread struct sampler me TLS;

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return dflt;
	n = strtoull(v, &end, 0);
	return *end || !n ? dflt : n;
}

static void configure(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = env_u64("MEMTRACE_SAMPLE_SEED", (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^
							     (uint64_t)getpid() << 16);
	mean_bytes = env_u64("MEMTRACE_SAMPLE_BYTES", MT_DEFAULT_MEAN);
}

__attribute__((constructor)) static void init(void)
{
	if (!mean_bytes)
		configure();
	blockset__init();
}

/* splitmix64: spreads a seed and a thread number into a well-mixed nonzero state. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x ? x : 1;
}

static uint64_t next_random(void)
{
	me.rng ^= me.rng >> 12;
	me.rng ^= me.rng << 25;
	me.rng ^= me.rng >> 27;
	return me.rng * 0x2545f4914f6cdd1dull;
}

/*
 * -ln(u) for u uniform in (0, 1], without libm: u = 2^e * m with m in [sqrt(1/2), sqrt(2)), and
 * ln(m) = 2 atanh(z), z = (m - 1)/(m + 1), |z| < 0.172, whose series to z^11 is exact to 1e-10.
 */
static double neg_log_uniform(void)
{
	uint64_t r = (next_random() >> 11) + 1;		/* 1 .. 2^53 */
	int e = 63 - __builtin_clzll(r);
	double m = (double)r / (double)(1ull << e);	/* [1, 2) */
	double z, z2;

	if (m > 1.4142135623730951) {
		m /= 2;
		e++;
	}
	z = (m - 1) / (m + 1);
	z2 = z * z;
	return -((double)(e - 53) * 0.6931471805599453 +
		 2 * z * (1 + z2 * (1. / 3 + z2 * (1. / 5 + z2 * (1. / 7 + z2 * (1. / 9 + z2 / 11))))));
}

static int64_t draw_interval(void)
{
	double x = neg_log_uniform() * (double)mean_bytes;

	return x < 1 ? 1 : x > 9e18 ? INT64_MAX : (int64_t)x;
}

static void seed_thread(void)
{
	if (!mean_bytes)
		configure();
	me.rng = mix(seed + __atomic_add_fetch(&nthreads, 1, __ATOMIC_RELAXED));
	me.countdown = draw_interval();
}

/*
 * Does a block of size bytes hold a sample point? The points form a Poisson process along the
 * bytes this thread allocates; being memoryless, the next one may be drawn from the block's end.
 */
static inline int sampled(size_t size)
{
	if (__builtin_expect((me.countdown -= (int64_t)size) > 0, 1))
		return 0;
	if (!me.rng) {		/* the thread's first allocation: its countdown was not drawn yet */
		seed_thread();
		return sampled(size);
	}
	me.countdown = draw_interval();
	return 1;
}

/*
 * The hooks are called from the wrappers themselves (record() and friends are inlined), which
 * keep a frame pointer (-fno-omit-frame-pointer): memtrace starts the stack at its caller. A
 * sampled block a realloc replaced is freed first, then the new one comes: one free, one
 * allocation, as memtrace counts a realloc it traces.
 */
INLINE void *record(void *p, size_t size, void *old)
{
	if (old)
		memtrace_sample_free(old);
	if (p && blockset__add((uintptr_t)p))
		memtrace_sample_alloc(p, size, mean_bytes);
	return p;
}

EXPORT void *malloc(size_t size)
{
	void *p = __libc_malloc(size);

	return sampled(size) ? record(p, size, NULL) : p;
}

EXPORT void *calloc(size_t n, size_t size)
{
	void *p = __libc_calloc(n, size);
	size_t total;

	if (__builtin_mul_overflow(n, size, &total))
		return p;	/* glibc failed it */
	return sampled(total) ? record(p, total, NULL) : p;
}

static void forget(void *p)
{
	if (p && blockset__remove((uintptr_t)p))
		memtrace_sample_free(p);
}

EXPORT void free(void *p)
{
	forget(p);	/* before the block can be handed out again */
	__libc_free(p);
}

/* A realloc is a free and an allocation: the new block is sampled on its own size, whatever the old. */
INLINE void *resize(void *old, size_t size)
{
	int was = old && blockset__remove((uintptr_t)old);
	void *p = __libc_realloc(old, size);

	if (!p && old && size) {	/* failed: the old block stays as it was */
		if (was)
			blockset__add((uintptr_t)old);
		return p;
	}
	if (p && sampled(size))
		return record(p, size, was ? old : NULL);
	if (was)
		memtrace_sample_free(old);
	return p;
}

EXPORT void *realloc(void *old, size_t size) { return resize(old, size); }

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return resize(old, total);
}

INLINE void *aligned(void *p, size_t size)
{
	return sampled(size) ? record(p, size, NULL) : p;
}

EXPORT void *memalign(size_t align, size_t size) { return aligned(__libc_memalign(align, size), size); }

/* glibc before 2.38 makes aligned_alloc memalign, any alignment welcome: so does this. */
EXPORT void *aligned_alloc(size_t align, size_t size)
{
	return aligned(__libc_memalign(align, size), size);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = aligned(p, size);
	return 0;
}

EXPORT void *valloc(size_t size) { return aligned(__libc_valloc(size), size); }

/* pvalloc's block is whole pages, as memtrace counts it when tracing glibc's. */
EXPORT void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), whole = (size + page - 1) & ~(page - 1);

	return aligned(__libc_pvalloc(size), whole ? whole : page);
}
