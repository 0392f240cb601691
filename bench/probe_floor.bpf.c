// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The probe floor: empty programs, so a bench run through them costs only the kernel's traps. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("uprobe")
int floor_enter(void *ctx) { return 0; }

SEC("uretprobe")
int floor_return(void *ctx) { return 0; }
