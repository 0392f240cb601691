/* SPDX-License-Identifier: BSD-2-Clause */
/* Everything the command line decides, in one place; each field's default is set in main.c. */
#ifndef MT_ENV_H
#define MT_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "present/folded.h"
#include "present/pyreport.h"
#include "symbolize/pytrace.h"

#define MT_MAX_PIDS 64

/* Which subcommand runs (user/cli/main.c's table). */
enum mt_mode {
	MT_MODE_TRACE,			/* memtrace [-p PID | -- CMD]: trace and report */
	MT_MODE_RECORD,			/* memtrace record -o FILE ...: trace into a recording */
	MT_MODE_REPORT,			/* memtrace report FILE: the reports, from a recording */
	MT_MODE_DIFF,			/* memtrace diff BEFORE AFTER */
	MT_MODE_CHECK,			/* memtrace check [-p PID]: what this machine offers */
};

struct env {
	enum mt_mode mode;
	int pids[MT_MAX_PIDS];		/* -p */
	int npids;
	char **cmd;			/* after -- */
	bool follow;			/* -f: children across fork and exec too */
	bool all;			/* -a: every process on the machine */
	const char *comm;		/* --comm: with -a, only processes of this name */
	const char *cgroup;		/* --cgroup: with -a, only this cgroup (and below) */
	double min_bytes;		/* --min-bytes: hide processes holding less */
	uint64_t sample_bytes;		/* --sample-bytes: run CMD with libmemtrace-sample.so; 0 = all */
	double duration;		/* -d, seconds; 0 = until stopped */
	int top;			/* -n */
	const char *output;		/* -o: text report file; NULL = stderr */
	const char *json;		/* --json */
	const char *folded;		/* --folded: folded stacks file */
	enum mt_folded_value folded_value; /* --folded-value */
	const char *pprof;		/* --pprof: gzip profile.proto file */
	const char *flamegraph;		/* --flamegraph: HTML file */
	const char *record;		/* record: -o FILE; report: its FILE argument */
	const char *before, *after;	/* diff: its two files */
	long long fail_if_grows;	/* diff --fail-if-grows BYTES; -1 = never fail */
	bool faults;			/* page faults and resident growth; off with --no-faults */
	const char *timeline;		/* --timeline: memory over time, HTML or SVG file */
	bool live;			/* the live view: stdout is a terminal and no --no-live */
	double interval;		/* -i, seconds between live view refreshes; 1 */
	int unwind;			/* --unwind: enum mt_unwind_mode; auto */
	const char *metrics;		/* --metrics ADDR:PORT: Prometheus endpoint; none */
	int metrics_top;		/* --metrics-top: processes with their own series; 20 */
	const char *pprof_dir;		/* --pprof-dir: periodic pprof profiles; none */
	double pprof_every;		/* --pprof-every, seconds; 60 */
	enum mt_py_frames python_frames; /* --python-frames; mixed */
	enum mt_py_group group_by;	/* --group-by: the Python view of the text report; line */
	bool leak_check;		/* --leak-check: memcheck's verdicts at exit (or at the end, -p) */
	int error_exitcode;		/* --error-exitcode N: when anything is lost; 0 = never */
};

#endif
