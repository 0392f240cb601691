// SPDX-License-Identifier: BSD-2-Clause
/* Reading another process's memory with process_vm_readv. */
#include <errno.h>
#include <sys/uio.h>

#include "procmem.h"

int procmem__read(int pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}
