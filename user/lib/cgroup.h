/* SPDX-License-Identifier: BSD-2-Clause */
/* A process's cgroups: its v2 path, the container it runs in, where its memory limit is set. */
#ifndef MT_CGROUP_H
#define MT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where cgroup v2 is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid system. */
const char *cgroup__v2_root(void);

/* pid's cgroup v2 path ("/system.slice/ssh.service"), malloc'd; NULL when unknown or gone. */
char *cgroup__v2_path(int pid);

/*
 * The container id a cgroup path carries, malloc'd; NULL when none. The last path component
 * that holds 64 hex digits, as Docker ("/docker/ID", "docker-ID.scope"), containerd
 * ("cri-containerd-ID.scope", "/kubepods/.../ID") and CRI-O ("crio-ID.scope") name them.
 */
char *cgroup__container_id(const char *path);

/*
 * The directory of pid's memory cgroup, malloc'd: under cgroup v2 when it has the memory
 * controller, else under v1's memory hierarchy; NULL when neither is there.
 */
char *cgroup__memory_dir(int pid);

/*
 * The memory limit that applies to dir: the smallest memory.max (v2) or memory.limit_in_bytes
 * (v1) of dir and its ancestors. 0 when none is set.
 */
uint64_t cgroup__memory_limit(const char *dir);

#endif
