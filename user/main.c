// SPDX-License-Identifier: BSD-2-Clause
/* memtrace: command-line parsing and dispatch. */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "trace.h"
#include "unwind.h"
#include "util.h"

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
	"\n"
	"Tracing ends on Ctrl-C (SIGINT/SIGTERM), after -d SECONDS, or when every\n"
	"traced process has exited. Then the report is written to stderr (stdout\n"
	"stays the command's) or to -o FILE. With -- CMD, memtrace waits for the\n"
	"command and exits with its status, as time(1) does.\n"
	"\n"
	"Live view: with stdout on a terminal (and no --no-live), a top-like\n"
	"screen shows the stacks holding memory, refreshed every -i SECONDS. Keys:\n"
	"b/g/c/a sort by bytes, growth, blocks, age; Up/Down move; Enter shows\n"
	"the whole stack; p pauses the display (tracing goes on); / filters by a\n"
	"substring of any frame; q quits as Ctrl-C does, then the report follows.\n"
	"A row marked '!' is a suspected leak: over the last 10 intervals its\n"
	"outstanding bytes grew (rising in at least half of them, never falling\n"
	"below where they began) while its oldest block, born before them, was\n"
	"never freed. A one-time buffer does not grow; a cache that evicts its\n"
	"oldest entries does not keep its oldest block.\n"
	"\n"
	"Exit status: with -- CMD the command's own; else 0. Errors: 1 tracing\n"
	"failed; 2 bad usage; 3 this machine cannot trace (not root, no BTF);\n"
	"4 the target cannot be traced (no such pid, no malloc to probe);\n"
	"126 command not executable; 127 command not found.";

static const char args_doc[] = "[-p PID]... | -- COMMAND [ARG...]";

enum { OPT_JSON = 0x100, OPT_FOLDED, OPT_FOLDED_VALUE, OPT_PPROF, OPT_FLAMEGRAPH, OPT_NO_LIVE,
       OPT_UNWIND, OPT_PY_FRAMES, OPT_GROUP_BY };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "What to trace:", 1 },
	{ "pid", 'p', "PID[,PID...]", 0, "Attach to running processes (repeatable)", 1 },
	{ NULL, 0, NULL, 0, "When to stop:", 2 },
	{ "duration", 'd', "SECONDS", 0, "Stop after this long (default: until Ctrl-C or exit)", 2 },
	{ NULL, 0, NULL, 0, "What to write:", 3 },
	{ "top", 'n', "N", 0, "Stacks to show per process in the text report (default 10)", 3 },
	{ "output", 'o', "FILE", 0, "Write the text report to FILE instead of stderr", 3 },
	{ "json", OPT_JSON, "FILE", 0, "Write the report as JSON to FILE ('-' for stdout)", 3 },
	{ "folded", OPT_FOLDED, "FILE", 0, "Write folded stacks (flamegraph.pl, speedscope) to FILE", 3 },
	{ "folded-value", OPT_FOLDED_VALUE, "VALUE", 0,
	  "What --folded counts: outstanding (bytes, default), allocated (bytes) or blocks", 3 },
	{ "pprof", OPT_PPROF, "FILE", 0, "Write a gzip pprof heap profile to FILE (go tool pprof)", 3 },
	{ "flamegraph", OPT_FLAMEGRAPH, "FILE", 0, "Write an interactive HTML flame graph to FILE", 3 },
	{ "no-live", OPT_NO_LIVE, NULL, 0, "No live view on a terminal: only the final report", 3 },
	{ "interval", 'i', "SECONDS", 0, "Refresh the live view this often (default 1)", 3 },
	{ NULL, 0, NULL, 0, "Other:", 4 },
	{ "unwind", OPT_UNWIND, "fp|dwarf|auto", 0,
	  "How to walk stacks: frame pointers, .eh_frame CFI, or CFI only for objects built "
	  "without frame pointers (default auto)", 4 },
	{ "verbose", 'v', NULL, 0, "Show the BPF loader's diagnostics and memtrace's own", 4 },
	{ NULL, 0, NULL, 0, "Python:", 5 },
	{ "python-frames", OPT_PY_FRAMES, "HOW", 0,
	  "Python frames in stacks: mixed (in place of the eval loop's, default), only, off", 5 },
	{ "group-by", OPT_GROUP_BY, "KEY", 0,
	  "Python view of the report: line (default), function, file or traceback", 5 },
	{ 0 },
};

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
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || *end || end == arg || *out < min) {
		mt_err(NULL, "invalid %s '%s'", what, arg);
		return -EINVAL;
	}
	return 0;
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
		env->output = arg;
		break;
	case OPT_JSON:
		env->json = arg;
		break;
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
	case OPT_NO_LIVE:
		env->live = false;
		break;
	case 'i':
		if (parse_number("interval", arg, 0.05, &env->interval))
			return EINVAL;
		break;
	case 'v':
		mt_verbose = 1;
		break;
	case ARGP_KEY_ARGS:
		env->cmd = state->argv + state->next;
		break;
	case ARGP_KEY_ARG:
		return ARGP_ERR_UNKNOWN;
	case ARGP_KEY_END:
		if (!env->cmd && !env->npids)
			argp_error(state, "nothing to trace: give -p PID or -- COMMAND");
		if (env->cmd && env->npids)
			argp_error(state, "give either -p PID or -- COMMAND, not both");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { options, parse_opt, args_doc, doc, NULL, NULL, NULL };
	struct env env = {
		.top = 10,
		.live = true,
		.interval = 1,
		.unwind = MT_UNWIND_AUTO,
	};
	int idx;

	/* argp's own errors exit with argp_err_exit_status. */
	argp_err_exit_status = MT_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, &idx, &env))
		return MT_EXIT_USAGE;
	env.live = env.live && isatty(STDOUT_FILENO);
	return trace__run(&env);
}
