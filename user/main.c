// SPDX-License-Identifier: BSD-2-Clause
/* memtrace: command-line parsing and dispatch. */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "trace.h"
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
	"  sudo memtrace -f -- ./prefork-server      the server and every child it forks\n"
	"  sudo memtrace -a -d 60 --min-bytes 1M     which process on this box leaks\n"
	"\n"
	"Tracing ends on Ctrl-C (SIGINT/SIGTERM), after -d SECONDS, or when every\n"
	"traced process has exited. Then the report is written to stderr (stdout\n"
	"stays the command's) or to -o FILE. With -- CMD, memtrace waits for the\n"
	"command and exits with its status, as time(1) does.\n"
	"\n"
	"Exit status: with -- CMD the command's own; else 0. Errors: 1 tracing\n"
	"failed; 2 bad usage; 3 this machine cannot trace (not root, no BTF);\n"
	"4 the target cannot be traced (no such pid, no malloc to probe);\n"
	"126 command not executable; 127 command not found.";

static const char args_doc[] = "[-p PID]... | -a | -- COMMAND [ARG...]";

enum { OPT_JSON = 0x100, OPT_FOLDED, OPT_FOLDED_VALUE, OPT_PPROF, OPT_FLAMEGRAPH, OPT_COMM,
       OPT_CGROUP, OPT_MIN_BYTES };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "What to trace:", 1 },
	{ "pid", 'p', "PID[,PID...]", 0, "Attach to running processes (repeatable)", 1 },
	{ "follow", 'f', NULL, 0, "Follow children across fork and exec, with a tree total", 1 },
	{ "all", 'a', NULL, 0, "Every process on the machine, also those started later", 1 },
	{ "comm", OPT_COMM, "NAME", 0, "With -a: only processes named NAME", 1 },
	{ "cgroup", OPT_CGROUP, "PATH", 0, "With -a: only processes in this cgroup (v2) or below", 1 },
	{ "min-bytes", OPT_MIN_BYTES, "N", 0, "Hide processes holding less than N bytes (K, M, G)", 1 },
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
	{ NULL, 0, NULL, 0, "Other:", 4 },
	{ "verbose", 'v', NULL, 0, "Show the BPF loader's diagnostics and memtrace's own", 4 },
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
	case 'v':
		mt_verbose = 1;
		break;
	case ARGP_KEY_ARGS:
		env->cmd = state->argv + state->next;
		break;
	case ARGP_KEY_ARG:
		return ARGP_ERR_UNKNOWN;
	case ARGP_KEY_END:
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
	};
	int idx;

	/* argp's own errors exit with argp_err_exit_status. */
	argp_err_exit_status = MT_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, &idx, &env))
		return MT_EXIT_USAGE;
	return trace__run(&env);
}
