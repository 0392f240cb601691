// SPDX-License-Identifier: BSD-2-Clause
/* The dynamic loader's list of an executable's objects, whole even while signals keep coming. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "probe/elfsym.h"
#include "probe/ldso.h"
#include "tap.h"

struct names {
	char buf[4096];
	int n;
};

static void collect(const char *path, void *ctx)
{
	struct names *l = ctx;
	size_t len = strlen(l->buf);

	snprintf(l->buf + len, sizeof(l->buf) - len, "%s\n", path);
	l->n++;
}

/* ldd's own list, read by the shell's tools: the objects named by path, the loader included. */
static void ldd_list(const char *exe, struct names *out)
{
	char cmd[512], line[1024];
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(cmd, sizeof(cmd), "ldd %s | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\\//) { print $i; break } }'", exe);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		collect(line, out);
	}
	if (f)
		pclose(f);
}

static void on_alarm(int sig) { (void)sig; }

int main(void)
{
	const char *exe = "/bin/bash";
	char *interp = elfsym__interp(exe);
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART: reads see EINTR */
	struct itimerval every = { { 0, 50 }, { 0, 50 } }, off = { { 0, 0 }, { 0, 0 } };
	struct names want, got;
	int whole = 0, runs = 40;

	ok(interp != NULL, "%s has a program interpreter", exe);
	if (!interp)
		return done_testing();
	ldd_list(exe, &want);
	memset(&got, 0, sizeof(got));
	is_u64(ldso__list(interp, exe, NULL, collect, &got), 0, "the loader ran");
	is_str(got.buf, want.buf, "the list is ldd's, in ldd's order");
	ok(strstr(got.buf, "/libc.so.6\n") != NULL, "libc is in it");

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every, NULL);
	for (int i = 0; i < runs; i++) {
		memset(&got, 0, sizeof(got));
		ldso__list(interp, exe, NULL, collect, &got);
		whole += !strcmp(got.buf, want.buf);
	}
	setitimer(ITIMER_REAL, &off, NULL);
	is_u64(whole, runs, "with a signal every 50 us, every list is whole (%d runs)", runs);
	free(interp);
	return done_testing();
}
