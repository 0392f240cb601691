// SPDX-License-Identifier: BSD-2-Clause
/*
 * Keeps the BPF unwinder's tables (bpf/unwind.bpf.h) loaded: one per object file, keyed as the
 * kernel names the file, (dev, inode), so every process mapping libc shares one table. An object
 * is loaded when a traced process is known to map it (before exec for a command's program and C
 * library, from /proc/PID/maps otherwise, and when BPF reports a pc in an object it has no table
 * for, as after dlopen) and dropped when no traced process maps it any more. Each table is an
 * array map of exactly its rows, so dropping one gives its memory back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/htab.h"
#include "lib/procmaps.h"
#include "probe/elfsym.h"
#include "probe/ldso.h"
#include "probe/unwind.h"
#include "probe/unwind_table.h"
#include "lib/util.h"

/* What all tables together may take in the kernel; objects past it unwind by frame pointer. */
#define UNWIND_BUDGET_BYTES (256ull << 20)

struct uobj {
	struct mt_unwind_key key;
	char *path;
	int fd;			/* the rows' array map; -1 when there are none */
	uint32_t nrows;
	uint32_t flags;		/* MT_UNWIND_OBJ_* */
	bool failed;		/* no usable .eh_frame: BPF counts its frames as "no table" */
	int *users;		/* pids mapping it */
	size_t nusers, cap_users;
	uint64_t seen;		/* generation of the last refresh that found it mapped */
};

struct unwinder {
	int mode;
	int objs_fd, tables_fd, missing_fd;
	struct uobj *objs[MT_UNWIND_MAX_OBJECTS];	/* by table slot */
	struct htab *by_key;				/* hash of key -> slot + 1 */
	uint64_t gen;
	bool warned;
	struct unwind_cost st;
};

static const char *const mode_names[] = {
	[MT_UNWIND_FP] = "fp", [MT_UNWIND_DWARF] = "dwarf", [MT_UNWIND_AUTO] = "auto"
};

int unwind__parse_mode(const char *s)
{
	for (int i = 0; i < (int)(sizeof(mode_names) / sizeof(mode_names[0])); i++)
		if (!strcmp(s, mode_names[i]))
			return i;
	return -EINVAL;
}

const char *unwind__mode_name(int mode)
{
	return mode >= 0 && mode <= MT_UNWIND_AUTO ? mode_names[mode] : "?";
}

struct unwinder *unwind__new(struct probe *p, int mode)
{
	struct unwinder *u = xcalloc(1, sizeof(*u));

	u->mode = mode;
	u->st.mode = unwind__mode_name(mode);
	if (mode == MT_UNWIND_FP)
		return u;
	u->objs_fd = probe__map_fd(p, "unwind_objs");
	u->tables_fd = probe__map_fd(p, "unwind_tables");
	u->missing_fd = probe__map_fd(p, "unwind_missing");
	u->by_key = htab__new(sizeof(uint32_t));
	return u;
}

static uint64_t hash_key(const struct mt_unwind_key *k) { return mt_hash(k, sizeof(*k), 0) | 1; }

static int find(const struct unwinder *u, const struct mt_unwind_key *k)
{
	uint32_t *slot = htab__lookup(u->by_key, hash_key(k));

	if (!slot || memcmp(&u->objs[*slot - 1]->key, k, sizeof(*k)))
		return -1;
	return (int)*slot - 1;
}

/* The kernel's internal dev_t, which is what bpf reads from a file's super block. */
static struct mt_unwind_key key_of(dev_t dev, ino_t ino)
{
	return (struct mt_unwind_key){ .dev = (uint64_t)major(dev) << 20 | minor(dev), .ino = ino };
}

static void release(struct unwinder *u, int slot)
{
	struct uobj *o = u->objs[slot];

	if (o->fd >= 0)
		close(o->fd);
	free(o->users);
	free(o->path);
	free(o);
	u->objs[slot] = NULL;
}

static void drop(struct unwinder *u, int slot)
{
	struct uobj *o = u->objs[slot];
	__u32 s = slot;

	bpf_map_delete_elem(u->objs_fd, &o->key);	/* first: BPF must not find a slot being emptied */
	if (o->fd >= 0) {
		bpf_map_delete_elem(u->tables_fd, &s);
		u->st.bytes -= (uint64_t)o->nrows * sizeof(struct mt_unwind_row);
	}
	htab__remove(u->by_key, hash_key(&o->key), NULL);
	mt_debug("unwind: dropped table of %s", o->path);
	release(u, slot);
}

static void add_user(struct uobj *o, int pid)
{
	for (size_t i = 0; i < o->nusers; i++)
		if (o->users[i] == pid)
			return;
	xgrow(&o->users, &o->cap_users, o->nusers + 1, sizeof(*o->users));
	o->users[o->nusers++] = pid;
}

/* Remove pid from o's users; drop o when it has none left. */
static void drop_user(struct unwinder *u, int slot, int pid)
{
	struct uobj *o = u->objs[slot];

	for (size_t i = 0; i < o->nusers; i++)
		if (o->users[i] == pid)
			o->users[i] = o->users[--o->nusers];
	if (!o->nusers)
		drop(u, slot);
}

/* Put the rows into a map of their own (installed under the object's slot by install_rows). */
static int load_rows(struct uobj *o, const struct unwind_table *t)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	__u32 *keys, count = t->n;
	int err = 0;

	o->fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mt_unwind_rows", sizeof(__u32),
			       sizeof(struct mt_unwind_row), t->n, &opts);
	if (o->fd < 0)
		return -errno;
	keys = xcalloc(t->n, sizeof(*keys));
	for (__u32 i = 0; i < t->n; i++)
		keys[i] = i;
	if (bpf_map_update_batch(o->fd, keys, t->rows, &count, NULL))
		err = -errno;
	free(keys);
	if (err) {
		close(o->fd);
		o->fd = -1;
	}
	return err;
}

/*
 * The rows' map into the slot BPF looks the object's table up in. The update of a map of maps
 * waits out an RCU grace period (the kernel's maybe_wait_bpf_programs: 8-17 ms measured here)
 * after the map is in place, so the object is published first (build): until the map lands its
 * frames find no table, as before it was published, and from then on they find it although the
 * call has not returned. The slot is empty: drop() emptied it, and waited, before it was reused.
 * The table counts once it is in.
 */
static void install_rows(struct unwinder *u, int slot, struct uobj *o)
{
	__u32 s = slot;

	if (o->fd < 0)
		return;
	if (bpf_map_update_elem(u->tables_fd, &s, &o->fd, BPF_ANY)) {
		mt_warn("failed to load the unwind table of %s: %s", o->path, strerror(errno));
		close(o->fd);
		o->fd = -1;
		o->failed = true;
		u->st.failed_objects++;
		return;
	}
	u->st.objects++;
	u->st.rows += o->nrows;
	u->st.bytes += (uint64_t)o->nrows * sizeof(struct mt_unwind_row);
	if (u->st.bytes > u->st.peak_bytes)
		u->st.peak_bytes = u->st.bytes;
}

/* Read the object's .eh_frame and load what BPF needs; failures leave a "no table" entry. */
static void build(struct unwinder *u, int slot, struct uobj *o, const char *file)
{
	struct unwind_table t;
	int err = unwind_table__build_file(file, &t);

	if (!err && u->mode == MT_UNWIND_AUTO && t.has_fp) {
		o->flags |= MT_UNWIND_OBJ_FP;
		u->st.fp_objects++;
	} else if (!err && u->st.bytes + t.n * sizeof(*t.rows) > UNWIND_BUDGET_BYTES) {
		if (!u->warned)
			mt_warn("unwind tables would exceed %llu MiB: %s and later objects unwind by frame pointer",
				UNWIND_BUDGET_BYTES >> 20, o->path);
		u->warned = true;
		err = -E2BIG;
	} else if (!err && t.n && !(err = load_rows(o, &t))) {
		o->nrows = t.n;	/* counted once in (install_rows) */
	}
	if (err || (!t.n && !(o->flags & MT_UNWIND_OBJ_FP))) {
		mt_debug("unwind: no table for %s: %s", o->path, strerror(err ? -err : ENOENT));
		o->failed = true;
		u->st.failed_objects++;
	}
	{
		struct mt_unwind_obj v = { .table = slot, .nrows = o->nrows, .flags = o->flags,
					   .vaddr_adjust = t.vaddr_adjust };

		if (bpf_map_update_elem(u->objs_fd, &o->key, &v, BPF_ANY))
			mt_warn("failed to publish the unwind table of %s: %s", o->path, strerror(errno));
	}
	install_rows(u, slot, o);
	mt_debug("unwind: %s: %zu rows, %u functions%s", o->path, t.n, t.nfdes,
		 o->flags & MT_UNWIND_OBJ_FP ? ", frame pointers" : "");
	unwind_table__release(&t);
}

/* The object's slot, loading it from file (which may be NULL: then it has no table). */
static int get(struct unwinder *u, const struct mt_unwind_key *k, const char *path, const char *file)
{
	int slot = find(u, k);
	uint64_t t0 = mt_now_ns();
	struct uobj *o;
	bool existed;

	if (slot >= 0)
		return slot;
	for (slot = 0; slot < MT_UNWIND_MAX_OBJECTS && u->objs[slot]; slot++)
		;
	if (slot == MT_UNWIND_MAX_OBJECTS)
		return -ENOSPC;
	o = u->objs[slot] = xcalloc(1, sizeof(*o));
	o->key = *k;
	o->path = xstrdup(path);
	o->fd = -1;
	*(uint32_t *)htab__insert(u->by_key, hash_key(k), &existed) = slot + 1;
	if (file) {
		build(u, slot, o, file);
	} else {
		o->failed = true;
		u->st.failed_objects++;
	}
	u->st.load_ns += mt_now_ns() - t0;
	return slot;
}

static void preload_one(struct unwinder *u, int pid, const char *path)
{
	struct mt_unwind_key k;
	struct stat st;
	int slot;

	if (stat(path, &st))
		return;
	k = key_of(st.st_dev, st.st_ino);
	slot = get(u, &k, path, path);
	if (slot >= 0) {
		u->objs[slot]->seen = u->gen;
		add_user(u->objs[slot], pid);
	}
}

struct preload {
	struct unwinder *u;
	int pid;
};

static void preload_listed(const char *path, void *ctx)
{
	struct preload *p = ctx;

	preload_one(p->u, p->pid, path);
}

void unwind__preload(struct unwinder *u, int pid, const char *exe)
{
	char *interp;

	if (u->mode == MT_UNWIND_FP)
		return;
	preload_one(u, pid, exe);
	interp = elfsym__interp(exe);
	if (interp) {
		/* The libraries exe will load, so that its first allocations after exec, in library
		 * constructors included, already find their tables. */
		struct preload p = { u, pid };

		preload_one(u, pid, interp);
		ldso__list(interp, exe, NULL, preload_listed, &p);
	}
	free(interp);
}

void unwind__renew(struct unwinder *u, int pid, const char *exe)
{
	if (u->mode == MT_UNWIND_FP)
		return;
	u->gen++;
	unwind__preload(u, pid, exe);
	for (int slot = 0; slot < MT_UNWIND_MAX_OBJECTS; slot++)
		if (u->objs[slot] && u->objs[slot]->seen != u->gen)
			drop_user(u, slot, pid);
}

static bool is_code(const struct pmap *m)
{
	return m->perms[2] == 'x' && m->inode && m->path[0] == '/';
}

void unwind__refresh(struct unwinder *u, int pid)
{
	struct procmaps m;

	if (u->mode == MT_UNWIND_FP || procmaps__read(pid, &m))
		return;
	u->gen++;
	for (size_t i = 0; i < m.n; i++) {
		struct mt_unwind_key k = key_of(m.maps[i].dev, m.maps[i].inode);
		/* map_files reaches the very file mapped, even deleted or in another mount namespace */
		char *file = xasprintf("/proc/%d/map_files/%llx-%llx", pid,
				       (unsigned long long)m.maps[i].start, (unsigned long long)m.maps[i].end);
		int slot = is_code(&m.maps[i]) ? get(u, &k, m.maps[i].path, file) : -1;

		if (slot >= 0) {
			u->objs[slot]->seen = u->gen;
			add_user(u->objs[slot], pid);
		}
		free(file);
	}
	procmaps__release(&m);
	for (int slot = 0; slot < MT_UNWIND_MAX_OBJECTS; slot++)
		if (u->objs[slot] && u->objs[slot]->seen != u->gen)
			drop_user(u, slot, pid);
}

void unwind__service(struct unwinder *u)
{
	struct mt_unwind_key keys[64];
	__u32 pids[64];
	int n = 0;

	if (u->mode == MT_UNWIND_FP)
		return;
	while (n < 64 && !bpf_map_get_next_key(u->missing_fd, n ? &keys[n - 1] : NULL, &keys[n]) &&
	       !bpf_map_lookup_elem(u->missing_fd, &keys[n], &pids[n]))
		n++;
	for (int i = 0; i < n; i++) {
		if (find(u, &keys[i]) < 0)
			unwind__refresh(u, pids[i]);
		if (find(u, &keys[i]) < 0) {	/* gone already, or named differently in /proc */
			int slot = get(u, &keys[i], "[unknown object]", NULL);

			if (slot >= 0)
				add_user(u->objs[slot], pids[i]);
		}
		bpf_map_delete_elem(u->missing_fd, &keys[i]);
	}
}

void unwind__forget(struct unwinder *u, int pid)
{
	for (int slot = 0; u->mode != MT_UNWIND_FP && slot < MT_UNWIND_MAX_OBJECTS; slot++)
		if (u->objs[slot])
			drop_user(u, slot, pid);
}

void unwind__stats(const struct unwinder *u, struct unwind_cost *out)
{
	*out = u->st;
}

void unwind__free(struct unwinder *u)
{
	if (!u)
		return;
	for (int slot = 0; slot < MT_UNWIND_MAX_OBJECTS; slot++)
		if (u->objs[slot])
			release(u, slot);	/* the maps that referred to it may be gone already */
	htab__free(u->by_key);
	free(u);
}
