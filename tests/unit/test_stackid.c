// SPDX-License-Identifier: BSD-2-Clause
/*
 * Stacks sent by id (user/probe/stackid.c): a full stack is kept under its id for its process,
 * an id alone (in a whole event, or in a short allocation) gets the frames back, an unknown id
 * is counted and leaves no frames, and a process forgotten takes its stacks with it.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "probe/stackid.h"
#include "tap.h"

static struct mt_event ev;

/* An allocation event with n frames from base, sent in full under id; its length in *size. */
static const struct mt_event *full(uint32_t pid, uint64_t id, uint32_t n, uint64_t base, size_t *size)
{
	memset(&ev, 0, sizeof(ev));
	ev.op = MT_OP_MALLOC;
	ev.pid = pid;
	ev.addr = 0x1000 + base;
	ev.size = 48;
	for (uint32_t i = 0; i < n; i++)
		ev.frames[i] = base + i;
	ev.frames[n] = id;
	ev.nframes = n | MT_FRAMES_NEW;
	*size = MT_EVENT_HDR_SIZE + 8 * (n + 1);
	return &ev;
}

static const struct mt_event *by_id(uint32_t pid, uint64_t id, uint32_t n, size_t *size)
{
	memset(&ev, 0, sizeof(ev));
	ev.op = MT_OP_MALLOC;
	ev.pid = pid;
	ev.addr = 0x9000;
	ev.size = 16;
	ev.frames[0] = id;
	ev.nframes = n | MT_FRAMES_BY_ID;
	*size = MT_EVENT_HDR_SIZE + 8;
	return &ev;
}

/* Does e carry n frames from base, and is size its length? */
static bool frames_are(const struct mt_event *e, size_t size, uint32_t n, uint64_t base)
{
	if (!e || e->nframes != n || size != MT_EVENT_HDR_SIZE + 8 * n)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (e->frames[i] != base + i)
			return false;
	return true;
}

static void expand_and_clash(void)
{
	struct stackids *t = stackids__new();
	struct stackid_stats st;
	const struct mt_event *e;
	size_t size;

	e = full(7, 0x11, 5, 100, &size);
	e = stackids__expand(t, e, &size);
	ok(frames_are(e, size, 5, 100) && e->addr == 0x1000 + 100 && e->size == 48,
	   "a full stack comes out as sent, without its id");
	e = stackids__expand(t, by_id(7, 0x11, 5, &size), &size);
	ok(frames_are(e, size, 5, 100) && e->addr == 0x9000 && e->size == 16,
	   "an id alone gets its frames back, the event's own header kept");
	e = stackids__expand(t, by_id(7, 0x11, 4, &size), &size);
	ok(e && e->nframes == 0 && size == MT_EVENT_HDR_SIZE && e->addr == 0x9000,
	   "an id with another frame count is not that stack: kept with no frames");
	e = stackids__expand(t, by_id(7, 0x33, 3, &size), &size);
	ok(e && e->nframes == 0, "an unknown id leaves the event with no frames");
	stackids__expand(t, full(7, 0x11, 5, 100, &size), &size);
	stackids__expand(t, full(7, 0x11, 6, 500, &size), &size);
	e = stackids__expand(t, by_id(7, 0x11, 6, &size), &size);
	ok(frames_are(e, size, 6, 500), "after a clash the later stack has the id");
	stackids__stats(t, &st);
	is_u64(st.unknown, 2, "unknown ids counted");
	is_u64(st.clashes, 1, "one clash counted (the same stack sent again is none)");
	is_u64(st.full, 3, "full stacks counted");
	is_u64(st.by_id, 4, "ids counted");

	size = MT_EVENT_HDR_SIZE + 8 * 5;	/* no room for the id after the frames */
	memset(&ev, 0, sizeof(ev));
	ev.nframes = 5 | MT_FRAMES_NEW;
	ok(stackids__expand(t, &ev, &size) == NULL, "a full stack cut short is refused");
	size = MT_EVENT_HDR_SIZE;
	ev.nframes = 5 | MT_FRAMES_BY_ID;
	ok(stackids__expand(t, &ev, &size) == NULL, "an id event without its id is refused");
	memset(&ev, 0, sizeof(ev));
	ev.nframes = 2;
	size = MT_EVENT_HDR_SIZE + 16;
	ok(stackids__expand(t, &ev, &size) == &ev, "an event without an id passes as it is");
	stackids__free(t);
}

/* Two processes with the same id; one forgotten. */
static void processes(void)
{
	struct stackids *t = stackids__new();
	struct stackid_stats st;
	const struct mt_event *e;
	size_t size;

	stackids__expand(t, full(10, 0x21, 3, 100, &size), &size);
	stackids__expand(t, full(11, 0x21, 4, 200, &size), &size);
	stackids__stats(t, &st);
	is_u64(st.clashes, 0, "one id in two processes is no clash");
	is_u64(st.processes, 2, "two processes with stacks");
	is_u64(st.bytes, 7 * 8, "their frames kept, each once");
	e = stackids__expand(t, by_id(10, 0x21, 3, &size), &size);
	ok(frames_are(e, size, 3, 100), "each process's id names its own stack (10)");
	e = stackids__expand(t, by_id(11, 0x21, 4, &size), &size);
	ok(frames_are(e, size, 4, 200), "each process's id names its own stack (11)");
	stackids__forget(t, 10);
	e = stackids__expand(t, by_id(10, 0x21, 3, &size), &size);
	ok(e && e->nframes == 0, "a forgotten process's ids are unknown");
	e = stackids__expand(t, by_id(11, 0x21, 4, &size), &size);
	ok(frames_are(e, size, 4, 200), "the other process keeps its stacks");
	stackids__forget(t, 12);	/* never seen: nothing to do */
	stackids__stats(t, &st);
	is_u64(st.processes, 1, "one process left");
	is_u64(st.bytes, 4 * 8, "the forgotten process's frames are gone from the count");
	stackids__free(t);
}

/* A short allocation (struct mt_alloc_by_id): its header made whole, its frames the id's. */
static void short_alloc(void)
{
	struct mt_alloc_by_id a = { .op = MT_OP_CALLOC, .pid = 7, .tid = 9, .size = 4000,
				    .ts_ns = 123456789, .addr = 0xabc0, .stack_id = 0x11 };
	struct stackids *t = stackids__new();
	struct stackid_stats st;
	const struct mt_event *e;
	size_t size = MT_ALLOC_BY_ID_SIZE;

	stackids__expand(t, full(7, 0x11, 5, 100, &size), &size);
	size = MT_ALLOC_BY_ID_SIZE;
	e = stackids__expand_short(t, &a, &size);
	ok(frames_are(e, size, 5, 100), "a short allocation gets its id's frames, and their count");
	ok(e && e->op == MT_OP_CALLOC && e->pid == 7 && e->tid == 9 && e->size == 4000 &&
	   e->ts_ns == 123456789 && e->addr == 0xabc0 && !e->old_addr && !e->old_size,
	   "and its own header: op, pid, tid, size, time, address; no old block");
	a.stack_id = 0x44;
	size = MT_ALLOC_BY_ID_SIZE;
	e = stackids__expand_short(t, &a, &size);
	ok(e && e->nframes == 0 && size == MT_EVENT_HDR_SIZE && e->addr == 0xabc0,
	   "an unknown id: the allocation kept, with no frames");
	a.pid = 8;
	a.stack_id = 0x11;
	size = MT_ALLOC_BY_ID_SIZE;
	e = stackids__expand_short(t, &a, &size);
	ok(e && e->nframes == 0, "another process's id is not this one's");
	stackids__stats(t, &st);
	is_u64(st.unknown, 2, "both unknown ids counted");
	is_u64(st.by_id, 3, "short allocations counted with the ids");
	size = MT_ALLOC_BY_ID_SIZE - 8;
	ok(!stackids__expand_short(t, &a, &size), "a short allocation cut short is refused");
	a.op = MT_OP_FREE;
	size = MT_ALLOC_BY_ID_SIZE;
	ok(!stackids__expand_short(t, &a, &size), "so is one that is no allocation");
	stackids__free(t);
}

int main(void)
{
	expand_and_clash();
	processes();
	short_alloc();
	return done_testing();
}
