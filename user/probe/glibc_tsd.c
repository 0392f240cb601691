// SPDX-License-Identifier: BSD-2-Clause
/*
 * glibc's struct pthread is private and changes between releases, so its thread-specific data
 * slots are found by experiment rather than from a table: on x86_64 struct pthread starts at the
 * thread pointer (fsbase), a key's value sits in specific_1stblock[key].data for keys below 32,
 * and specific[0] points back at specific_1stblock. Setting two known values and searching for
 * them gives both offsets, checked against each other. glibc 2.36 (bookworm) gives 784 and 1296,
 * as `ptype/o struct pthread` in gdb with libc6-dbg shows (tests/integration/python_tsd.sh).
 * The traced process must run the same glibc: python.c compares the two before trusting them.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probe/glibc_tsd.h"

#define SEARCH_LIMIT 8192	/* struct pthread is about 2.3 KiB in glibc 2.36 */
#define KEY_SLOT 16		/* struct pthread_key_data { uintptr_t seq; void *data; } */

/* A copy of the memory above our thread pointer, read so that running off its mapping is harmless. */
static size_t read_own(const void *at, uint8_t *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)at, len };
	ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	return n > 0 ? (size_t)n : 0;
}

static long find_word(const uint8_t *buf, size_t len, uint64_t value)
{
	for (size_t off = 0; off + 8 <= len; off += 8) {
		uint64_t w;

		memcpy(&w, buf + off, 8);
		if (w == value)
			return (long)off;
	}
	return -1;
}

static int probe_with(pthread_key_t k1, pthread_key_t k2, struct glibc_tsd *out)
{
	const uint8_t *tp = __builtin_thread_pointer();
	static char mark1, mark2;	/* their addresses are the values: nothing else holds them */
	static uint8_t buf[SEARCH_LIMIT];
	long at, first, second;
	uint64_t w;
	size_t len;

	if (k1 >= 32 || k2 >= 32 || pthread_setspecific(k1, &mark1) || pthread_setspecific(k2, &mark2))
		return -ENOTSUP;
	len = read_own(tp, buf, sizeof(buf));
	at = find_word(buf, len, (uint64_t)(uintptr_t)&mark1);
	if (at < 0)
		return -ENOENT;
	first = at - 8 - (long)k1 * KEY_SLOT;
	if (first < 0 || (size_t)first + k2 * KEY_SLOT + 16 > len)
		return -EPROTO;
	memcpy(&w, buf + first + k2 * KEY_SLOT + 8, 8);
	if (w != (uint64_t)(uintptr_t)&mark2)
		return -EPROTO;
	second = find_word(buf, len, (uint64_t)(uintptr_t)(tp + first));	/* specific[0] */
	if (second < 0)
		return -EPROTO;
	out->first = (uint32_t)first;
	out->second = (uint32_t)second;
	return 0;
}

int glibc_tsd__probe(struct glibc_tsd *out)
{
	pthread_key_t k1, k2;
	int err;

	if (pthread_key_create(&k1, NULL))
		return -EAGAIN;
	if (pthread_key_create(&k2, NULL)) {
		pthread_key_delete(k1);
		return -EAGAIN;
	}
	err = probe_with(k1, k2, out);
	pthread_key_delete(k1);
	pthread_key_delete(k2);
	return err;
}
