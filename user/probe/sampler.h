/* SPDX-License-Identifier: BSD-2-Clause */
/* Sampling mode: where libmemtrace-sample.so is, starting a command with it, finding it in a pid. */
#ifndef MT_SAMPLER_H
#define MT_SAMPLER_H

#include <stdint.h>

#define MT_SAMPLE_LIB "libmemtrace-sample.so"
#define MT_SAMPLE_DEFAULT_BYTES (512u << 10)	/* the library's own default */

/* The library to preload: next to the memtrace binary, else in the install's lib/memtrace. */
char *sampler__library(void);
/* Parse --sample-bytes: a positive count, with an optional K, M or G suffix. 0 or -EINVAL. */
int sampler__parse_bytes(const char *arg, uint64_t *out);
/* Put lib first in LD_PRELOAD and set MEMTRACE_SAMPLE_BYTES, for the command to inherit. */
void sampler__setenv(const char *lib, uint64_t bytes);
/* The library as a running process mapped it (through /proc/PID/root); NULL if it has none. */
char *sampler__of_pid(int pid);
/* The mean a running process samples at: its MEMTRACE_SAMPLE_BYTES, else the default. */
uint64_t sampler__bytes_of_pid(int pid);
/* "LD_PRELOAD=... MEMTRACE_SAMPLE_BYTES=N": the line to start a program with for -p. */
void sampler__print_preload_hint(uint64_t bytes);

#endif
