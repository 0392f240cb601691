/* SPDX-License-Identifier: BSD-2-Clause */
/* Errors, allocation that cannot fail quietly, clocks and formatting shared by every module. */
#ifndef MT_UTIL_H
#define MT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses memtrace itself uses; with `-- CMD` a successful trace exits with CMD's status. */
enum mt_exit {
	MT_EXIT_OK = 0,
	MT_EXIT_FAIL = 1,	/* tracing failed while running */
	MT_EXIT_USAGE = 2,	/* bad command line */
	MT_EXIT_ENV = 3,	/* this machine or user cannot trace: no root/CAP_BPF, no BTF, ... */
	MT_EXIT_TARGET = 4,	/* the target cannot be traced: no such pid, no malloc to probe */
	MT_EXIT_DATA = 5,	/* an input file is corrupt, truncated or of the wrong version */
	MT_EXIT_GREW = 6,	/* diff --fail-if-grows: outstanding memory grew by more than allowed */
	MT_EXIT_NOEXEC = 126,	/* the command exists but cannot be executed */
	MT_EXIT_NOTFOUND = 127,	/* the command does not exist */
};

extern int mt_verbose;

/* "memtrace: <what failed>" on stderr; hint (may be NULL) is appended after " -- ". */
void mt_err(const char *hint, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mt_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Grow *p (an array of *cap elements of size elem) so that it holds at least need elements, the
 * new ones zeroed. xreserve leaves them as they are: for a buffer written before it is read, whose
 * room past what it holds should not be touched (each page touched is a page fault).
 */
void xgrow(void *p, size_t *cap, size_t need, size_t elem);
void xreserve(void *p, size_t *cap, size_t need, size_t elem);

/* Can files be made in dir: a directory we may write and enter? 0 or -errno (-ENOTDIR). */
int mt_dir_writable(const char *dir);
uint64_t mt_now_ns(void);		/* CLOCK_MONOTONIC, the clock bpf_ktime_get_ns() reads */
/* The Unix time (CLOCK_REALTIME, ns) of a CLOCK_MONOTONIC moment, such as a snapshot's now_ns. */
uint64_t mt_unix_ns(uint64_t mono_ns);
uint64_t mt_cpu_ns(void);		/* CPU time of the calling thread */
uint64_t mt_process_cpu_ns(void);	/* CPU time of the whole process, every thread */
/*
 * waitpid(), again when a signal interrupts it: memtrace's SIGCHLD handler has no SA_RESTART (it
 * must wake the poll loop), and a ptrace stop sends SIGCHLD to the very wait that is for it.
 */
int mt_waitpid(int pid, int *status, int flags);

/* "1.5 MiB"; buf must hold 16 bytes. */
const char *mt_fmt_bytes(uint64_t n, char *buf);

/* 64-bit hash of a byte string (FNV-1a with a final mix); seed varies it for rehashing. */
uint64_t mt_hash(const void *data, size_t len, uint64_t seed);

#endif
