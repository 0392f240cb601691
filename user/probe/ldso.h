/* SPDX-License-Identifier: BSD-2-Clause */
/* What the dynamic loader will map for an executable, asked of the loader itself. */
#ifndef MT_LDSO_H
#define MT_LDSO_H

/*
 * Runs `interp --list exe` (as ldd does: the loader resolves and maps the objects without
 * running any of their code) in envp (NULL: memtrace's own), and calls each(path, ctx) for every
 * object it names by path, in load order. Returns 0, or -errno when the loader could not be run.
 */
int ldso__list(const char *interp, const char *exe, char *const envp[],
	       void (*each)(const char *path, void *ctx), void *ctx);

#endif
