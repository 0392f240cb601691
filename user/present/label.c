// SPDX-License-Identifier: BSD-2-Clause
/* How every presenter names things: frames, kinds, losses, mappings, where a stack's own frames begin. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "memtrace.h"
#include "present/label.h"

static const char *base(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path ? path : "?";
}

const char *label__frame(const struct mt_frame *f, enum label_style style, char *buf, size_t size)
{
	bool mapped = f->mapping && f->mapping->path;
	const char *inl = f->inlined ? " [inlined]" : "";

	if (style == LABEL_NAME && f->function)
		return f->function;
	if (f->function && f->file)
		snprintf(buf, size, "%s (%s:%d)%s", f->function, base(f->file), f->line, inl);
	else if (f->function)
		snprintf(buf, size, "%s (%s)%s", f->function, base(mapped ? f->mapping->path : NULL), inl);
	else if (mapped)
		snprintf(buf, size, "%s+0x%" PRIx64, base(f->mapping->path), f->module_offset);
	else
		snprintf(buf, size, "%s0x%" PRIx64, style == LABEL_WHERE ? "[unknown] " : "", f->addr);
	return buf;
}

const char *label__kind(enum mt_kind kind)
{
	static const char *const names[MT_KIND__COUNT] = {
		[MT_KIND_HEAP] = "heap",
		[MT_KIND_MMAP] = "mmap",
	};

	return (unsigned)kind < MT_KIND__COUNT ? names[kind] : "unknown";
}

uint32_t label__first_frame(const struct mt_stack *st)
{
	/* A stack made only of plumbing (or a site not found) is shown whole rather than empty. */
	if (st->site < 0 || (uint32_t)st->site >= st->nframes)
		return 0;
	return (uint32_t)st->site;
}

/* Each loss reason's key (JSON, metrics) and its words for the text report. */
static const struct {
	const char *key, *text;
} loss_names[MT_LOSS__COUNT] = {
	[MT_LOSS_RINGBUF_FULL] = { "ringbuf_full", "ring buffer full" },
	[MT_LOSS_SCRATCH_FULL] = { "call_table_full", "call not remembered (no per-thread storage)" },
	[MT_LOSS_STACK] = { "stack_failed", "stack not captured" },
	[MT_LOSS_STACK_TRUNCATED] = { "stack_truncated", "stack truncated at " MT_STR(MT_MAX_FRAMES) " frames" },
	[MT_LOSS_NO_ENTRY] = { "return_without_entry", "return without entry" },
	[MT_LOSS_FAULT_STACK_TRUNCATED] = { "fault_stack_truncated", "page-fault stack truncated at " MT_STR(MT_MAX_FRAMES) " frames" },
	[MT_LOSS_UNWIND_NO_TABLE] = { "unwind_no_table", "frames without unwind table" },
	[MT_LOSS_UNWIND_UNSUPPORTED] = { "unwind_unsupported", "frames with unsupported CFI" },
	[MT_LOSS_UNWIND_READ_FAULT] = { "unwind_read_fault", "frames unreadable" },
	[MT_LOSS_PY_STACK] = { "python_stack_cut", "Python stack cut by an unreadable frame" },
	[MT_LOSS_PY_TRUNCATED] = { "python_stack_truncated", "Python stack truncated" },
	[MT_LOSS_WORK_BUSY] = { "work_busy", "no free per-CPU work record (preempted programs)" },
	[MT_LOSS_STACK_ID] = { "stack_id_unknown", "stack sent by an id not known" },
};

const char *label__loss_key(unsigned int reason)
{
	return reason < MT_LOSS__COUNT && loss_names[reason].key ? loss_names[reason].key : "unknown";
}

const char *label__loss_text(unsigned int reason)
{
	return reason < MT_LOSS__COUNT && loss_names[reason].text ? loss_names[reason].text : "unknown";
}

static const char *const leak_keys[MT_LEAK__COUNT] = {
	[MT_LEAK_DEFINITE] = "definitely_lost", [MT_LEAK_INDIRECT] = "indirectly_lost",
	[MT_LEAK_POSSIBLE] = "possibly_lost", [MT_LEAK_REACHABLE] = "still_reachable",
};

/* valgrind's words, so that people who know its reports read these at once. */
static const char *const leak_texts[MT_LEAK__COUNT] = {
	[MT_LEAK_DEFINITE] = "definitely lost", [MT_LEAK_INDIRECT] = "indirectly lost",
	[MT_LEAK_POSSIBLE] = "possibly lost", [MT_LEAK_REACHABLE] = "still reachable",
};

const char *label__leak_key(enum mt_leak_kind k) { return k < MT_LEAK__COUNT ? leak_keys[k] : "unknown"; }
const char *label__leak_text(enum mt_leak_kind k) { return k < MT_LEAK__COUNT ? leak_texts[k] : "unknown"; }

const char *label__map(uint32_t map)
{
	static const char *const name[MT_MAP__COUNT] = {
		[MT_MAP_UNKNOWN] = "unknown", [MT_MAP_HEAP] = "heap", [MT_MAP_ANON] = "anon",
		[MT_MAP_STACK] = "stack", [MT_MAP_FILE] = "file",
	};

	return map < MT_MAP__COUNT ? name[map] : "unknown";
}
