// SPDX-License-Identifier: BSD-2-Clause
/* Writes every output the command line asked for from one final snapshot, from a table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "present/flamegraph.h"
#include "present/folded.h"
#include "session/output.h"
#include "present/pprof.h"
#include "present/pyreport.h"
#include "present/report.h"
#include "present/timeline.h"
#include "lib/util.h"

static int text(const struct env *env, const struct mt_snapshot *s, FILE *f)
{
	return report__text(s, f, env->top) || pyreport__text(s, f, env->group_by, env->top);
}

static int json(const struct env *env, const struct mt_snapshot *s, FILE *f)
{
	return report__json(s, f);
}

static int folded(const struct env *env, const struct mt_snapshot *s, FILE *f)
{
	return folded__write(s, f, env->folded_value);
}

static int pprof(const struct env *env, const struct mt_snapshot *s, FILE *f)
{
	return pprof__fwrite(s, NULL, f);
}

static int flamegraph(const struct env *env, const struct mt_snapshot *s, FILE *f)
{
	return flamegraph__write(s, f);
}

static int timeline(const struct env *env, const struct mt_snapshot *s, FILE *f)
{
	return timeline__write(s, f, timeline__wants_svg(env->timeline));
}

static const char *json_path(const struct env *env) { return env->json; }
static const char *folded_path(const struct env *env) { return env->folded; }
static const char *pprof_path(const struct env *env) { return env->pprof; }
static const char *flamegraph_path(const struct env *env) { return env->flamegraph; }
static const char *timeline_path(const struct env *env) { return env->timeline; }
static const char to_stderr[] = "(stderr)";	/* compared by address: no file has this name */
/* A recording is read later with memtrace report: record writes no text report unless asked. */
static const char *text_path(const struct env *env)
{
	return env->output ? env->output : env->mode == MT_MODE_RECORD ? NULL : to_stderr;
}

/* Each output: where it goes ("-" = stdout, NULL = not asked for) and how it is written. */
static const struct output_spec {
	const char *what;
	const char *(*path)(const struct env *env);
	int (*write)(const struct env *env, const struct mt_snapshot *s, FILE *f);
} outputs[] = {
	{ "JSON report", json_path, json },
	{ "folded stacks", folded_path, folded },
	{ "pprof profile", pprof_path, pprof },
	{ "flame graph", flamegraph_path, flamegraph },
	{ "timeline", timeline_path, timeline },
	{ "text report", text_path, text },
};

static bool is_std(const char *path) { return path == to_stderr || !strcmp(path, "-"); }

static void cannot_write(const struct output_spec *o, const char *path, int err)
{
	mt_err("check the directory exists and is writable", "cannot write %s to %s: %s", o->what,
	       path, strerror(-err));
}

static int write_one(const struct output_spec *o, const struct env *env, const struct mt_snapshot *s,
		     const char *path)
{
	bool std = is_std(path);
	FILE *f = path == to_stderr ? stderr : std ? stdout : fopen(path, "we");
	int err;

	if (!f) {
		cannot_write(o, path, -errno);
		return -1;
	}
	err = o->write(env, s, f);
	if (std ? fflush(f) : fclose(f))
		err = -1;
	if (err)
		mt_err(NULL, "failed to write %s to %s", o->what, path);
	return err;
}

/* Could path be written now: an existing file we may write, or a new one in a directory we may? */
static int writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	char *dir;
	int rc;

	if (!stat(path, &st))
		return S_ISDIR(st.st_mode) ? -EISDIR : access(path, W_OK) ? -errno : 0;
	if (errno != ENOENT)
		return -errno;
	if (!slash)
		return mt_dir_writable(".");
	dir = xstrdup(path);
	dir[slash == path ? 1 : slash - path] = '\0';	/* "/x" -> "/", "a/b" -> "a" */
	rc = mt_dir_writable(dir);
	free(dir);
	return rc;
}

int output__check_all(const struct env *env)
{
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		const char *path = outputs[i].path(env);
		int err = path && !is_std(path) ? writable(path) : 0;

		if (err) {
			cannot_write(&outputs[i], path, err);
			return -1;
		}
	}
	return 0;
}

int output__write_all(const struct env *env, const struct mt_snapshot *s)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		const char *path = outputs[i].path(env);

		if (path && write_one(&outputs[i], env, s, path))
			rc = -1;
	}
	return rc;
}
