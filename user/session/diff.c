// SPDX-License-Identifier: BSD-2-Clause
/*
 * memtrace diff BEFORE AFTER: both runs loaded (recordings or JSON reports, diff_load.c), every
 * output asked for written, and the exit status that --fail-if-grows asks for.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "present/diff.h"
#include "session/diff.h"

/* Each output asked for, to its file ("-" = stdout); the text table goes to -o or stdout. */
static int write_to(const char *path, const char *what, const struct env *env, const struct diff *d,
		    int (*write)(const struct env *, const struct diff *, FILE *))
{
	bool std = !strcmp(path, "-");
	FILE *f = std ? stdout : fopen(path, "we");
	int err;

	if (!f) {
		mt_err("check the directory exists and is writable", "cannot write %s to %s: %s", what,
		       path, strerror(errno));
		return -errno;
	}
	err = write(env, d, f);
	if (std ? fflush(f) : fclose(f))
		err = err ?: -EIO;
	if (err)
		mt_err(NULL, "failed to write %s to %s", what, path);
	return err;
}

static int w_text(const struct env *e, const struct diff *d, FILE *f) { return diff__text(d, e->before, e->after, e->top, f); }
static int w_json(const struct env *e, const struct diff *d, FILE *f) { return diff__json(d, e->before, e->after, f); }
static int w_folded(const struct env *e, const struct diff *d, FILE *f) { return diff__folded(d, f); }
static int w_flame(const struct env *e, const struct diff *d, FILE *f) { return diff__flamegraph(d, f); }

static int write_outputs(const struct env *env, const struct diff *d)
{
	int err = 0;

	if (env->json && write_to(env->json, "diff JSON", env, d, w_json))
		err = -1;
	if (env->folded && write_to(env->folded, "differential folded stacks", env, d, w_folded))
		err = -1;
	if (env->flamegraph && write_to(env->flamegraph, "differential flame graph", env, d, w_flame))
		err = -1;
	if (write_to(env->output ? env->output : "-", "diff table", env, d, w_text))
		err = -1;
	return err;
}

int diff__run(const struct env *env)
{
	struct diff *d = diff__new();
	int rc = 0;

	if (diff__load_both(d, env->before, env->after)) {
		diff__free(d);
		return MT_EXIT_DATA;
	}
	if (write_outputs(env, d))
		rc = MT_EXIT_FAIL;
	if (!rc && env->fail_if_grows >= 0 && diff__delta(d->bytes) > env->fail_if_grows) {
		mt_err(NULL, "outstanding memory grew by %" PRId64 " B, more than the %lld B allowed by --fail-if-grows",
		       diff__delta(d->bytes), env->fail_if_grows);
		rc = MT_EXIT_GREW;
	}
	diff__free(d);
	return rc;
}
