// SPDX-License-Identifier: BSD-2-Clause
/*
 * The bench's probe floor: runs a command with empty BPF programs attached to exactly the
 * allocator functions memtrace probes (its own attach table, entry and return alike), so that
 * what memtrace costs beyond the kernel's uprobe traps can be measured.
 * Usage: floor [--probe-sites entry|auto] -- COMMAND [ARG...]
 * (exits with the command's status; prints its BPF run counts). The probes go where memtrace's
 * go (probe__sites, same --probe-sites), so "x floor" compares like with like.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe/allocator.h"
#include "probe_floor.skel.h"
#include "probe/probe.h"
#include "probe/probesite.h"
#include "session/target.h"
#include "lib/util.h"

struct floor_links {
	struct bpf_link *link[256];
	size_t n;
};

static int attach_one(struct floor_links *l, struct bpf_program *prog, int pid, const char *obj,
		      uint64_t off, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
	struct bpf_link *link;

	if (l->n == sizeof(l->link) / sizeof(l->link[0]))
		return -E2BIG;
	link = bpf_program__attach_uprobe_opts(prog, pid, obj, off, &opts);
	if (!link)
		return -errno;
	l->link[l->n++] = link;
	return 0;
}

/*
 * The same probes as probe__attach_plan, at the same addresses (probe__sites: entries or cheaper
 * sites under --probe-sites): a return probe where memtrace has one, then the entry probe.
 */
static int floor__attach(struct probe_floor *skel, struct floor_links *l, int pid,
			 const struct alloc_plan *plan)
{
	uint64_t *at = calloc(plan->nsites + 1, sizeof(*at));
	int err = at ? 0 : -ENOMEM;

	if (at)
		probe__sites(plan, at);
	for (size_t i = 0; i < plan->nsites && !err; i++) {
		const struct alloc_site *site = &plan->sites[i];
		const char *obj = plan->objs[site->obj].open_path;

		if (site->spec->how != ALLOC_FREE)
			err = attach_one(l, skel->progs.floor_return, pid, obj, at[i], true);
		if (!err)
			err = attach_one(l, skel->progs.floor_enter, pid, obj, at[i], false);
	}
	free(at);
	return err;
}

/* run_cnt and run_time_ns count only while kernel.bpf_stats_enabled=1; zero otherwise. */
static void floor__print_stats(const struct probe_floor *skel)
{
	struct bpf_program *progs[] = { skel->progs.floor_enter, skel->progs.floor_return };

	for (size_t i = 0; i < 2; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len))
			continue;
		fprintf(stderr, "floor: bpf %s run_cnt=%llu run_time_ns=%llu\n",
			bpf_program__name(progs[i]), (unsigned long long)info.run_cnt,
			(unsigned long long)info.run_time_ns);
	}
}

int main(int argc, char **argv)
{
	struct floor_links links = { .n = 0 };
	struct target t = { .pid = 0 };
	struct probe_floor *skel = NULL;
	struct alloc_plan plan = { .nobjs = 0 };
	char *exe = NULL;
	volatile int no_signal = 0;
	int rc = MT_EXIT_FAIL, err;

	if (argc > 3 && !strcmp(argv[1], "--probe-sites")) {
		probesite_mode = probesite__parse_mode(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 3 || strcmp(argv[1], "--") || probesite_mode < 0) {
		fprintf(stderr, "usage: floor [--probe-sites entry|auto] -- COMMAND [ARG...]\n");
		return MT_EXIT_USAGE;
	}
	skel = probe_floor__open_and_load();
	if (!skel) {
		mt_err("run as root", "failed to load the floor's BPF programs: %s", strerror(errno));
		return MT_EXIT_ENV;
	}
	rc = target__resolve(argv[2], &exe);
	if (rc)
		goto cleanup;
	if (allocator__plan_exe(exe, environ, &plan)) {
		rc = MT_EXIT_TARGET;
		goto cleanup;
	}
	if (target__spawn(&t, exe, argv + 2)) {
		mt_err(NULL, "cannot start %s", exe);
		rc = MT_EXIT_FAIL;
		goto cleanup;
	}
	err = floor__attach(skel, &links, t.pid, &plan);
	if (err) {
		mt_err(NULL, "failed to attach the floor's uprobes for %s: %s", exe, strerror(-err));
		target__abort(&t);
		rc = MT_EXIT_FAIL;
		goto cleanup;
	}
	err = target__exec(&t);
	if (err) {
		mt_err(NULL, "cannot run '%s': %s", argv[2], strerror(-err));
		target__wait(&t, &no_signal);
		rc = err == -ENOENT ? MT_EXIT_NOTFOUND : MT_EXIT_NOEXEC;
		goto cleanup;
	}
	rc = target__wait(&t, &no_signal);
	floor__print_stats(skel);
cleanup:
	for (size_t i = 0; i < links.n; i++)
		bpf_link__destroy(links.link[i]);
	probe_floor__destroy(skel);
	allocator__release(&plan);
	free(exe);
	return rc;
}
