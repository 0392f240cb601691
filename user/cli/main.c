// SPDX-License-Identifier: BSD-2-Clause
/* memtrace: command-line parsing and dispatch. */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/check.h"
#include "session/diff.h"
#include "session/env.h"
#include "present/metrics.h"
#include "probe/probesite.h"
#include "session/replay.h"
#include "probe/sampler.h"
#include "session/trace.h"
#include "probe/unwind.h"
#include "symbolize/demangle.h"
#include "symbolize/symbolize.h"
#include "lib/util.h"

#define MT_VERSION "0.1.0"

const char *argp_program_version = "memtrace " MT_VERSION;
const char *argp_program_bug_address = NULL;

static const char doc[] =
	"memtrace -- see which call stacks hold memory that is not given back.\v"
	"Examples:\n"
	"  sudo memtrace -- ./server --port 8080     trace a command from its start\n"
	"  sudo memtrace -p 1234 -d 30               attach to pid 1234 for 30 s\n"
	"  sudo memtrace -p 12,34 --json out.json    two processes, JSON for scripts\n"
	"  sudo memtrace -n 20 -o report.txt -- ./a  top 20 stacks into a file\n"
	"  sudo memtrace --pprof heap.pb.gz -- ./a   then: go tool pprof -top heap.pb.gz\n"
	"  sudo memtrace --flamegraph fg.html -p 1234  interactive flame graph\n"
	"  sudo memtrace -p 1234 --group-by function  a Python service by function\n"
	"  sudo memtrace --metrics 127.0.0.1:9464 -p 1234  Prometheus scrapes /metrics\n"
	"  go tool pprof -top http://127.0.0.1:9464/debug/pprof/heap?pid=1234\n"
	"  sudo memtrace --pprof-dir /var/lib/mt --pprof-every 10 -p 1234\n"
	"  sudo memtrace --timeline mem.html -- ./a  RSS and heap over time, the peak\n"
	"  sudo memtrace -f -- ./prefork-server      the server and every child it forks\n"
	"  sudo memtrace -a -d 60 --min-bytes 1M     which process on this box leaks\n"
	"  sudo memtrace --sample-bytes 512K -- ./a  sampled: cheap enough for production\n"
	"  sudo memtrace --leak-check -- ./a         valgrind's leak verdicts, at exit\n"
	"  sudo memtrace --leak-check --error-exitcode 9 -- ./test   fail CI on a leak\n"
	"  sudo memtrace --leak-check -p 1234 -d 60  verdicts on a running process\n"
	"\n"
	"Subcommands (memtrace SUBCOMMAND --help for each):\n"
	"  record -o FILE [-p PID | -- CMD]   trace into a recording, for later\n"
	"  report FILE                        the reports, from a recording\n"
	"  diff BEFORE AFTER                  what grew between two runs\n"
	"  check [-p PID]                     what this machine offers memtrace\n"
	"                                     (also: memtrace --check)\n"
	"\n"
	"Tracing ends on Ctrl-C (SIGINT/SIGTERM), after -d SECONDS, or when every\n"
	"traced process has exited. Then the report is written to stderr (stdout\n"
	"stays the command's) or to -o FILE. With -- CMD, memtrace waits for the\n"
	"command and exits with its status, as time(1) does.\n"
	"\n"
	"Frames: C++ and Rust names are demangled (--no-demangle: as spelled);\n"
	"calls inlined at an address show as frames of their own, marked\n"
	"[inlined]. Objects without local debug info (stripped system libraries)\n"
	"get it from debuginfod when $DEBUGINFOD_URLS or --debuginfod names a\n"
	"server: fetched into elfutils' cache while tracing, waited for before\n"
	"the report. sudo drops the environment: keep it with\n"
	"  sudo --preserve-env=DEBUGINFOD_URLS memtrace ...\n"
	"\n"
	"Live view: with stdout on a terminal (and no --no-live), a top-like\n"
	"screen shows the stacks holding memory, refreshed every -i SECONDS. Keys:\n"
	"b/g/c/a/r sort by bytes, growth, blocks, age, or by what Python's cycle\n"
	"collector had to free (r); Up/Down move; Enter shows the whole stack;\n"
	"p pauses the display (tracing goes on); / filters by a substring of any\n"
	"frame; q quits as Ctrl-C does, then the report follows.\n"
	"Leak check (--leak-check): when the command exits (or, with -p, when\n"
	"tracing ends) memtrace stops its threads, reads their registers and its\n"
	"writable memory, and sorts every heap block it saw allocated and not\n"
	"freed as valgrind's memcheck does: 'definitely lost' (no pointer to it\n"
	"anywhere), 'indirectly lost' (pointed to only from lost blocks: fixing\n"
	"the definitely lost ones fixes them), 'possibly lost' (only pointers into\n"
	"its middle), 'still reachable' (a pointer to its start remains). The\n"
	"report gives each, by allocation stack, and how long the process was\n"
	"stopped. Not with -a, -f or --sample-bytes (not every block is known);\n"
	"glibc's malloc only. How it works, what it cannot judge: docs/leaks.md.\n"
	"\n"
	"A row marked '!' is a suspected leak: over the last 10 intervals its\n"
	"outstanding bytes grew (rising in at least half of them, never falling\n"
	"below where they began) while its oldest block, born before them, was\n"
	"never freed. A one-time buffer does not grow; a cache that evicts its\n"
	"oldest entries does not keep its oldest block.\n"
	"\n"
	"Exit status: with -- CMD the command's own; else 0. Errors: 1 tracing\n"
	"failed; 2 bad usage; 3 this machine cannot trace (not root, no BTF);\n"
	"4 the target cannot be traced (no such pid, no malloc to probe);\n"
	"5 an input file is corrupt, cut short or of another version;\n"
	"6 (diff --fail-if-grows) memory grew by more than allowed;\n"
	"N (--error-exitcode N) the leak check found blocks definitely or\n"
	"indirectly lost; 1 also when a leak check asked for could not be done;\n"
	"126 command not executable; 127 command not found.";

static const char args_doc[] = "[-p PID]... | -a | -- COMMAND [ARG...]";

enum { OPT_JSON = 0x100, OPT_FOLDED, OPT_FOLDED_VALUE, OPT_PPROF, OPT_FLAMEGRAPH, OPT_NO_LIVE,
       OPT_UNWIND, OPT_FAIL_IF_GROWS, OPT_METRICS, OPT_METRICS_TOP, OPT_PPROF_DIR, OPT_PPROF_EVERY,
       OPT_NO_FAULTS, OPT_TIMELINE, OPT_PY_FRAMES, OPT_GROUP_BY, OPT_COMM, OPT_CGROUP,
       OPT_MIN_BYTES, OPT_PROBE_SITES,
       OPT_SAMPLE_BYTES, OPT_NO_DEMANGLE, OPT_DEBUGINFOD, OPT_LEAK_CHECK, OPT_ERROR_EXITCODE };

/* Option entries, shared by the subcommands' tables. */
#define O_TARGETS                                                                                   \
	{ NULL, 0, NULL, 0, "What to trace:", 1 },                                                  \
	{ "pid", 'p', "PID[,PID...]", 0, "Attach to running processes (repeatable)", 1 },           \
	{ "sample-bytes", OPT_SAMPLE_BYTES, "N", 0,                                                 \
	  "Sample the heap of -- CMD: one block per N bytes allocated on average (e.g. 512K), "     \
	  "estimates scaled up; a few percent of overhead instead of a probe per call", 1 },              \
	{ NULL, 0, NULL, 0, "When to stop:", 2 },                                                   \
	{ "duration", 'd', "SECONDS", 0, "Stop after this long (default: until Ctrl-C or exit)", 2 }
/* The live trace only: a recording holds one process tree's events, not the machine's. */
#define O_REACH                                                                                     \
	{ "follow", 'f', NULL, 0, "Follow children across fork and exec, with a tree total", 1 },   \
	{ "all", 'a', NULL, 0, "Every process on the machine, also those started later", 1 },       \
	{ "comm", OPT_COMM, "NAME", 0, "With -a: only processes named NAME", 1 },                   \
	{ "cgroup", OPT_CGROUP, "PATH", 0, "With -a: only processes in this cgroup (v2) or below", 1 }, \
	{ "min-bytes", OPT_MIN_BYTES, "N", 0, "Hide processes holding less than N bytes (K, M, G)", 1 }
#define O_TOP { "top", 'n', "N", 0, "Stacks to show per process in the text report (default 10)", 3 }
#define O_TEXT { "output", 'o', "FILE", 0, "Write the text report to FILE instead of stderr", 3 }
#define O_JSON { "json", OPT_JSON, "FILE", 0, "Write the report as JSON to FILE ('-' for stdout)", 3 }
#define O_FOLDED { "folded", OPT_FOLDED, "FILE", 0, "Write folded stacks (flamegraph.pl, speedscope) to FILE", 3 }
#define O_FOLDED_VALUE                                                                              \
	{ "folded-value", OPT_FOLDED_VALUE, "VALUE", 0,                                             \
	  "What --folded counts: outstanding (bytes, default), allocated (bytes), blocks, gc "      \
	  "(bytes Python's cycle collector had to free), or lost (bytes definitely or indirectly "  \
	  "lost, with --leak-check)", 3 }
#define O_PPROF { "pprof", OPT_PPROF, "FILE", 0, "Write a gzip pprof heap profile to FILE (go tool pprof)", 3 }
#define O_FLAMEGRAPH { "flamegraph", OPT_FLAMEGRAPH, "FILE", 0, "Write an interactive HTML flame graph to FILE", 3 }
#define O_LIVE                                                                                      \
	{ "no-live", OPT_NO_LIVE, NULL, 0, "No live view on a terminal: only the final report", 3 },  \
	{ "interval", 'i', "SECONDS", 0, "Refresh the live view this often (default 1)", 3 }
#define O_UNWIND                                                                                    \
	{ "unwind", OPT_UNWIND, "fp|dwarf|auto", 0,                                                 \
	  "How to walk stacks: frame pointers, .eh_frame CFI, or CFI only for objects built "       \
	  "without frame pointers (default auto)", 4 },                                             \
	{ "probe-sites", OPT_PROBE_SITES, "entry|auto", 0,                                          \
	  "Where allocator probes go: each function's first instruction, or a later one the "       \
	  "kernel can emulate when provably equivalent (default auto; -v shows them)", 4 }
#define O_OTHER                                                                                     \
	{ NULL, 0, NULL, 0, "Other:", 4 },                                                          \
	{ "verbose", 'v', NULL, 0, "Show the BPF loader's diagnostics and memtrace's own", 4 }
/* How frames are named. */
#define O_FRAMES                                                                                    \
	{ "no-demangle", OPT_NO_DEMANGLE, NULL, 0,                                                  \
	  "Show C++ and Rust function names as the objects spell them (_Z...), not demangled", 4 }, \
	{ "debuginfod", OPT_DEBUGINFOD, "URL", 0,                                                   \
	  "Fetch the debug info objects lack from these debuginfod servers (space-separated; "    \
	  "default $DEBUGINFOD_URLS, which sudo drops without --preserve-env=DEBUGINFOD_URLS)", 4 }
#define O_RESIDENT                                                                                  \
	{ "no-faults", OPT_NO_FAULTS, NULL, 0,                                                      \
	  "Do not trace page faults (resident memory by stack and by mapping)", 3 }
#define O_TIMELINE                                                                                  \
	{ "timeline", OPT_TIMELINE, "FILE", 0,                                                      \
	  "Write memory over time (RSS, heap, the peak) to FILE: .html, or .svg for the chart alone", 3 }
#define O_PY_FRAMES                                                                                 \
	{ NULL, 0, NULL, 0, "Python:", 5 },                                                         \
	{ "python-frames", OPT_PY_FRAMES, "HOW", 0,                                                 \
	  "Python frames in stacks: mixed (in place of the eval loop's, default), only, off", 5 }
#define O_GROUP_BY                                                                                  \
	{ "group-by", OPT_GROUP_BY, "KEY", 0,                                                       \
	  "Python view of the report: line (default), function, file or traceback", 5 }
#define O_EXPORTS                                                                                   \
	{ "metrics", OPT_METRICS, "ADDR:PORT", 0,                                                   \
	  "Serve Prometheus metrics at http://ADDR:PORT/metrics and heap profiles at "              \
	  "/debug/pprof/heap and /allocs (?pid=N, ?seconds=N) while tracing (binds only there; "    \
	  "anyone who can reach it can read them)", 3 },                                            \
	{ "metrics-top", OPT_METRICS_TOP, "N", 0,                                                   \
	  "Processes with their own --metrics series; the rest are summed as pid=\"other\" "        \
	  "(default 20)", 3 },                                                                      \
	{ "pprof-dir", OPT_PPROF_DIR, "DIR", 0,                                                     \
	  "Write a pprof profile into DIR every --pprof-every seconds, a last one at the end, and "  \
	  "oom-PID-TIME.pb.gz when the OOM killer chooses a traced process", 3 },                   \
	{ "pprof-every", OPT_PPROF_EVERY, "SECONDS", 0, "How often --pprof-dir gets one (default 60)", 3 }

#define O_LEAKS                                                                                     \
	{ NULL, 0, NULL, 0, "Leaks:", 6 },                                                          \
	{ "leak-check", OPT_LEAK_CHECK, NULL, 0,                                                    \
	  "When the command exits (with -p: when tracing ends), tell lost heap blocks from "        \
	  "reachable ones as valgrind's memcheck does, by stack; the process is stopped only while "\
	  "its memory is read", 6 },                                                                \
	{ "error-exitcode", OPT_ERROR_EXITCODE, "N", 0,                                             \
	  "With --leak-check: exit with N (1-255) when any block is definitely or indirectly "      \
	  "lost, as valgrind does, so CI can fail on a leak", 6 }

static const struct argp_option options[] = {
	O_TARGETS, O_REACH,
	{ NULL, 0, NULL, 0, "What to write:", 3 },
	O_TOP, O_TEXT, O_JSON, O_FOLDED, O_FOLDED_VALUE, O_PPROF, O_FLAMEGRAPH, O_LIVE,
	O_EXPORTS, O_RESIDENT, O_TIMELINE,
	O_OTHER, O_UNWIND, O_FRAMES,
	O_PY_FRAMES, O_GROUP_BY,
	O_LEAKS,
	{ 0 },
};

static const struct argp_option record_options[] = {
	O_TARGETS,
	{ NULL, 0, NULL, 0, "What to write:", 3 },
	{ "output", 'o', "FILE", 0, "Write the recording to FILE (required)", 3 },
	O_JSON, O_FOLDED, O_FOLDED_VALUE, O_PPROF, O_FLAMEGRAPH, O_TIMELINE, O_LIVE, O_RESIDENT,
	O_OTHER, O_UNWIND, O_FRAMES,
	O_PY_FRAMES,
	{ 0 },
};

static const struct argp_option report_options[] = {
	{ NULL, 0, NULL, 0, "What to write:", 3 },
	O_TOP, O_TEXT, O_JSON, O_FOLDED, O_FOLDED_VALUE, O_PPROF, O_FLAMEGRAPH, O_TIMELINE,
	O_OTHER, O_FRAMES,
	{ NULL, 0, NULL, 0, "Python:", 5 },
	O_GROUP_BY,
	{ 0 },
};

static const struct argp_option diff_options[] = {
	{ NULL, 0, NULL, 0, "What to write:", 3 },
	{ "top", 'n', "N", 0, "Stacks to show in the text table (default 10)", 3 },
	{ "output", 'o', "FILE", 0, "Write the text table to FILE instead of stdout", 3 },
	{ "json", OPT_JSON, "FILE", 0, "Write the deltas as JSON to FILE ('-' for stdout)", 3 },
	{ "folded", OPT_FOLDED, "FILE", 0,
	  "Write differential folded stacks: 'stack BEFORE AFTER' (difffolded.pl's format)", 3 },
	{ "flamegraph", OPT_FLAMEGRAPH, "FILE", 0,
	  "Write a flame graph of growth (outstanding view) and of AFTER (allocated view)", 3 },
	{ NULL, 0, NULL, 0, "When to fail:", 2 },
	{ "fail-if-grows", OPT_FAIL_IF_GROWS, "BYTES", 0,
	  "Exit with status 6 when outstanding bytes (heap + mmap) grew by more than BYTES", 2 },
	O_OTHER, O_FRAMES,
	{ 0 },
};

static const struct argp_option check_options[] = {
	{ "pid", 'p', "PID[,PID...]", 0, "Also the allocators memtrace would probe in these processes", 1 },
	O_UNWIND, O_RESIDENT,
	O_OTHER,
	{ 0 },
};

static const char check_doc[] =
	"memtrace check -- what this machine offers memtrace, and what it would lose.\v"
	"Each capability memtrace uses, yes or no, with the kernel version that\n"
	"brought it and what memtrace does without it; then every BPF program\n"
	"loaded as `memtrace --unwind MODE` would load it, with the verifier's\n"
	"instruction count and stack depth; then, with -p, the allocator functions\n"
	"found in those processes. Put its output in bug reports.\n"
	"\n"
	"Examples:\n"
	"  sudo memtrace check\n"
	"  sudo memtrace --check -p 1234\n"
	"  sudo memtrace check --unwind fp        what frame-pointer mode loads\n"
	"\n"
	"Exit status: 0 memtrace can trace here; 1 a program is over its stack or\n"
	"instruction budget; 3 memtrace cannot trace on this machine; 4 a -p PID\n"
	"cannot be traced; 2 bad usage.";

static const char record_doc[] =
	"memtrace record -- trace into a recording, for memtrace report and diff.\v"
	"Examples:\n"
	"  sudo memtrace record -o run.mtr -- ./server     record a command\n"
	"  sudo memtrace record -o run.mtr -p 1234 -d 60   record a running process\n"
	"  memtrace report run.mtr                         later, anywhere, no root\n"
	"\n"
	"The recording holds the events as they were counted (page faults and a\n"
	"Python program's frames included), memory over time, the processes'\n"
	"mappings and the symbols of every address seen: it reports without the\n"
	"binaries. Blocks go out at least once a second, so a killed memtrace\n"
	"leaves a file readable up to its last block. No text report is written;\n"
	"the other outputs are, as with memtrace.";

static const char report_doc[] =
	"memtrace report -- the reports of a recording, as the live trace wrote them.\v"
	"Examples:\n"
	"  memtrace report run.mtr                     text report on stderr\n"
	"  memtrace report run.mtr --json run.json     the live run's JSON, to the byte\n"
	"  memtrace report run.mtr --pprof heap.pb.gz --flamegraph fg.html\n"
	"\n"
	"Needs neither root nor BPF. Exit status: 0; 5 when the file is not a\n"
	"readable recording (one cut short is read up to its last whole block,\n"
	"with a warning).";

static const char diff_doc[] =
	"memtrace diff -- compare two runs stack by stack: what grew, what is new.\v"
	"BEFORE and AFTER are recordings (memtrace record) or JSON reports (--json),\n"
	"in any mix. Stacks are matched by kind and by their frames from the call\n"
	"site outward (function, file:line when known, else module+offset), never\n"
	"by address, and over all processes.\n"
	"\n"
	"Examples:\n"
	"  memtrace diff before.mtr after.mtr\n"
	"  memtrace diff old.json new.json --fail-if-grows 65536        in CI\n"
	"  memtrace diff a.mtr b.mtr --folded d.folded; flamegraph.pl d.folded\n"
	"\n"
	"Exit status: 0; 6 with --fail-if-grows when outstanding bytes grew by more\n"
	"than BYTES; 2 bad usage; 5 an input is not a readable recording or report.";

static int parse_pids(struct env *env, char *arg)
{
	char *save = NULL;

	for (char *tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long pid;

		errno = 0;
		pid = strtol(tok, &end, 10);
		if (errno || *end || pid <= 0 || pid > 0x3fffffff) {
			mt_err("give a process id such as 1234", "invalid pid '%s'", tok);
			return -EINVAL;
		}
		if (env->npids == MT_MAX_PIDS) {
			mt_err(NULL, "too many pids (at most %d)", MT_MAX_PIDS);
			return -E2BIG;
		}
		env->pids[env->npids++] = (int)pid;
	}
	return 0;
}

static int parse_number(const char *what, const char *arg, double min, double *out)
{
	char *end, hint[48];

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || *end || end == arg || *out < min) {
		snprintf(hint, sizeof(hint), "give a number, at least %g", min);
		mt_err(hint, "invalid %s '%s'", what, arg);
		return -EINVAL;
	}
	return 0;
}

/* "64K", "1.5M", "2G" or plain bytes. */
static int parse_bytes(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (*end == 'K' || *end == 'k')
		v *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		v *= 1024.0 * 1024 * 1024, end++;
	if (errno || *end || end == arg || v < 0) {
		mt_err("give a size such as 4096, 64K or 1M", "invalid --min-bytes '%s'", arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}


/* report FILE and diff BEFORE AFTER take files; the tracing modes leave arguments to -- CMD. */
static error_t parse_file_arg(struct env *env, char *arg, struct argp_state *state)
{
	if (env->mode == MT_MODE_REPORT && !env->record)
		env->record = arg;
	else if (env->mode == MT_MODE_DIFF && (!env->before || !env->after))
		*(env->before ? &env->after : &env->before) = arg;
	else if (env->mode == MT_MODE_REPORT || env->mode == MT_MODE_DIFF || env->mode == MT_MODE_CHECK)
		argp_error(state, "unexpected argument '%s'", arg);
	else
		return ARGP_ERR_UNKNOWN;
	return 0;
}

static void check_args(const struct env *env, struct argp_state *state)
{
	switch (env->mode) {
	case MT_MODE_RECORD:
		if (!env->record)
			argp_error(state, "where to? give -o FILE for the recording");
		/* fall through */
	case MT_MODE_TRACE:
		if (!env->cmd && !env->npids && !env->all && env->leak_check)
			argp_error(state, "--leak-check needs a process to check: give -p PID or -- COMMAND");
		if (!env->cmd && !env->npids && !env->all)
			argp_error(state, "nothing to trace: give -p PID, -a or -- COMMAND");
		if (env->cmd && env->npids)
			argp_error(state, "give either -p PID or -- COMMAND, not both");
		if (env->all && (env->cmd || env->npids))
			argp_error(state, "-a traces every process: give no -p PID or -- COMMAND with it");
		if ((env->comm || env->cgroup) && !env->all)
			argp_error(state, "--comm and --cgroup go with -a");
		if (env->follow && env->all)
			argp_error(state, "-a already sees every process: -f is for -p or -- COMMAND");
		if (env->sample_bytes && (env->all || env->follow))
			argp_error(state, "--sample-bytes goes with -- COMMAND alone, not with -a or -f");
		if (env->leak_check && (env->all || env->follow || env->sample_bytes))
			argp_error(state, "--leak-check needs every block of the processes it checks: "
				   "give -p PID or -- COMMAND, without %s",
				   env->all ? "-a" : env->follow ? "-f" : "--sample-bytes (it sees one block in N)");
		if (env->error_exitcode && !env->leak_check)
			argp_error(state, "--error-exitcode is the leak check's verdict: give --leak-check too");
		if (env->sample_bytes && env->npids) {
			mt_err("a running process is sampled only if it was started with the library",
			       "--sample-bytes applies to -- COMMAND, not to -p");
			sampler__print_preload_hint(env->sample_bytes);
			exit(MT_EXIT_USAGE);
		}
		break;
	case MT_MODE_REPORT:
		if (!env->record)
			argp_error(state, "give the recording to report on");
		break;
	case MT_MODE_DIFF:
		if (!env->after)
			argp_error(state, "give two files: BEFORE AFTER");
		break;
	case MT_MODE_CHECK:
		break;
	}
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct env *env = state->input;
	double v;

	switch (key) {
	case 'p':
		return parse_pids(env, arg) ? EINVAL : 0;
	case 'd':
		if (parse_number("duration", arg, 0.001, &env->duration))
			return EINVAL;
		break;
	case 'n':
		if (parse_number("count for --top", arg, 1, &v))
			return EINVAL;
		env->top = (int)v;
		break;
	case 'o':
		if (env->mode == MT_MODE_RECORD)
			env->record = arg;
		else
			env->output = arg;
		break;
	case 'f':
		env->follow = true;
		break;
	case 'a':
		env->all = true;
		break;
	case OPT_COMM:
		env->comm = arg;
		break;
	case OPT_CGROUP:
		env->cgroup = arg;
		break;
	case OPT_MIN_BYTES:
		return parse_bytes(arg, &env->min_bytes) ? EINVAL : 0;
	case OPT_JSON:
		env->json = arg;
		break;
	case OPT_SAMPLE_BYTES:
		return sampler__parse_bytes(arg, &env->sample_bytes) ? EINVAL : 0;
	case OPT_LEAK_CHECK:
		env->leak_check = true;
		break;
	case OPT_ERROR_EXITCODE: {
		char *end;
		long code;

		errno = 0;
		code = strtol(arg, &end, 10);
		if (errno || *end || end == arg || code < 1 || code > 255) {
			mt_err("give a number from 1 to 255", "invalid --error-exitcode '%s'", arg);
			return EINVAL;
		}
		env->error_exitcode = (int)code;
		break;
	}
	case OPT_UNWIND:
		env->unwind = unwind__parse_mode(arg);
		if (env->unwind < 0) {
			mt_err("give fp, dwarf or auto", "invalid unwind mode '%s'", arg);
			return EINVAL;
		}
		break;
	case OPT_FOLDED:
		env->folded = arg;
		break;
	case OPT_FOLDED_VALUE:
		return mt_folded_value_parse(arg, &env->folded_value) ? EINVAL : 0;
	case OPT_PPROF:
		env->pprof = arg;
		break;
	case OPT_FLAMEGRAPH:
		env->flamegraph = arg;
		break;
	case OPT_PY_FRAMES:
		return mt_py_frames_parse(arg, &env->python_frames) ? EINVAL : 0;
	case OPT_GROUP_BY:
		return mt_py_group_parse(arg, &env->group_by) ? EINVAL : 0;
	case OPT_FAIL_IF_GROWS:
		if (parse_number("byte count for --fail-if-grows", arg, 0, &v))
			return EINVAL;
		env->fail_if_grows = (long long)v;
		break;
	case OPT_NO_FAULTS:
		env->faults = false;
		break;
	case OPT_TIMELINE:
		env->timeline = arg;
		break;
	case OPT_NO_LIVE:
		env->live = false;
		break;
	case 'i':
		if (parse_number("interval", arg, 0.05, &env->interval))
			return EINVAL;
		break;
	case OPT_METRICS:
		env->metrics = arg;
		break;
	case OPT_METRICS_TOP:
		if (parse_number("count for --metrics-top", arg, 1, &v))
			return EINVAL;
		env->metrics_top = (int)v;
		break;
	case OPT_PPROF_DIR:
		env->pprof_dir = arg;
		break;
	case OPT_PPROF_EVERY:
		if (parse_number("interval for --pprof-every", arg, 1, &env->pprof_every))
			return EINVAL;
		break;
	case 'v':
		mt_verbose = 1;
		break;
	case OPT_NO_DEMANGLE:
		mt_demangle = false;
		break;
	case OPT_DEBUGINFOD:
		sym_debuginfod_urls = arg;
		break;
	case OPT_PROBE_SITES:
		probesite_mode = probesite__parse_mode(arg);
		if (probesite_mode < 0) {
			mt_err("give entry or auto", "invalid probe-site mode '%s'", arg);
			return EINVAL;
		}
		break;
	case ARGP_KEY_ARGS:
		env->cmd = state->argv + state->next;
		break;
	case ARGP_KEY_ARG:
		return parse_file_arg(env, arg, state);
	case ARGP_KEY_END:
		check_args(env, state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp trace_argp = { options, parse_opt, args_doc, doc, NULL, NULL, NULL };
static const struct argp record_argp = { record_options, parse_opt, "-o FILE [-p PID]... | -- COMMAND [ARG...]",
					 record_doc, NULL, NULL, NULL };
static const struct argp report_argp = { report_options, parse_opt, "FILE", report_doc, NULL, NULL, NULL };
static const struct argp diff_argp = { diff_options, parse_opt, "BEFORE AFTER", diff_doc, NULL, NULL, NULL };
static const struct argp check_argp = { check_options, parse_opt, "[-p PID]...", check_doc, NULL, NULL, NULL };

/* memtrace SUBCOMMAND ...; anything else is the live trace. */
static const struct subcommand {
	const char *name;
	enum mt_mode mode;
	const struct argp *argp;
	int (*run)(const struct env *env);
} subcommands[] = {
	{ "record", MT_MODE_RECORD, &record_argp, trace__run },
	{ "report", MT_MODE_REPORT, &report_argp, replay__run },
	{ "diff", MT_MODE_DIFF, &diff_argp, diff__run },
	{ "check", MT_MODE_CHECK, &check_argp, check__run },
	{ "--check", MT_MODE_CHECK, &check_argp, check__run },
};

int main(int argc, char **argv)
{
	static const struct subcommand trace = { "memtrace", MT_MODE_TRACE, &trace_argp, trace__run };
	const struct subcommand *cmd = &trace;
	struct env env = {
		.top = 10,
		.fail_if_grows = -1,
		.faults = true,
		.live = true,
		.interval = 1,
		.unwind = MT_UNWIND_AUTO,
		.metrics_top = MT_METRICS_TOP_DEFAULT,
		.pprof_every = 60,
	};
	int idx;

	for (size_t i = 0; argc > 1 && i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (!strcmp(argv[1], subcommands[i].name)) {
			cmd = &subcommands[i];
			/* argp names the program after argv[0]: "memtrace record: ..." in its messages. */
			argv[1] = xasprintf("memtrace %s", cmd->mode == MT_MODE_CHECK ? "check" : cmd->name);
			argc--;
			argv++;
			break;
		}
	}
	env.mode = cmd->mode;
	/* argp's own errors exit with argp_err_exit_status. */
	argp_err_exit_status = MT_EXIT_USAGE;
	if (argp_parse(cmd->argp, argc, argv, ARGP_IN_ORDER, &idx, &env))
		return MT_EXIT_USAGE;
	env.live = env.live && isatty(STDOUT_FILENO);
	return cmd->run(&env);
}
