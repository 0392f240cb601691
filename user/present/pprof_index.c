// SPDX-License-Identifier: BSD-2-Clause
/* /debug/pprof/: what the pprof endpoints serve, as Go's index page lists its profiles. */
#include <inttypes.h>

#include "present/pprof.h"

/* Process names are the processes' to choose: escaped for HTML. */
static void put_html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

void pprof__index(const struct mt_snapshot *s, FILE *f)
{
	size_t stacks = 0;

	for (size_t i = 0; i < s->nprocs; i++)
		stacks += s->procs[i].nstacks;
	fprintf(f, "<html>\n<head>\n<title>/debug/pprof/</title>\n</head>\n<body>\n/debug/pprof/\n"
		   "<p>memtrace: heap profiles of the processes it traces (gzip pprof, for go tool pprof,"
		   " Parca, Pyroscope)</p>\n<table>\n<thead><td>Count</td><td>Profile</td></thead>\n");
	fprintf(f, "<tr><td>%zu</td><td><a href='allocs'>allocs</a></td></tr>\n", stacks);
	fprintf(f, "<tr><td>%zu</td><td><a href='heap'>heap</a></td></tr>\n</table>\n", stacks);
	fprintf(f, "<p>Profile Descriptions:</p>\n<ul>\n"
		   "<li>allocs: every allocation since tracing began, by stack (alloc_space first)</li>\n"
		   "<li>heap: the memory held now, by stack (inuse_space first), and what was allocated</li>\n"
		   "<li>?pid=N: one process; ?seconds=N: what changed over the next N seconds</li>\n</ul>\n");
	fprintf(f, "<p>Processes:</p>\n<table>\n<thead><td>PID</td><td>COMM</td><td>Held</td></thead>\n");
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mt_proc *p = &s->procs[i];

		fprintf(f, "<tr><td><a href='heap?pid=%" PRIu32 "'>%" PRIu32 "</a></td><td>", p->pid, p->pid);
		put_html(f, p->comm);
		fprintf(f, "</td><td>%" PRIu64 "</td></tr>\n", p->kind[MT_KIND_HEAP].outstanding_bytes);
	}
	fprintf(f, "</table>\n</body>\n</html>\n");
}
