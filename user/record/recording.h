/* SPDX-License-Identifier: BSD-2-Clause */
/* The recording file format (memtrace record): a writer and a reader, nothing about sessions. */
#ifndef MT_RECORDING_H
#define MT_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "memtrace.h"
#include "model/aggregate.h"
#include "model/snapshot.h"

/*
 * A file is a 16-byte header then blocks; see docs/recording.md for the byte layout.
 *   header: "MTRACE\r\n" | u32 version | u32 flags                 (little-endian throughout)
 *   block:  u32 len | u32 raw_len | u32 crc32(zstd frames) | zstd frames of raw_len bytes
 *   raw:    varint records length | varint column count | the columns' lengths |
 *           whole records (varint type | varint len | payload of len bytes) | the columns
 *   an event's record is its flags and op; its fields are in the columns (codec.h)
 * Every block decompresses alone, and a stack is defined (STACK) before the first event that
 * names it, so a file cut anywhere reads up to its last whole block. Events are coded against
 * tables that span blocks, as the stack table does (codec.h), so blocks are read in order.
 */
#define REC_MAGIC "MTRACE\r\n"
#define REC_VERSION 3u	/* 1: zlib blocks, u32 record headers, every event with its frames;
			 * 2: the table of live blocks kept blocks realloc(p, 0) and lost frees
			 *    left (read: its blocks are kept by address) */
#define REC_VERSION_OLDEST 2u	/* the oldest this memtrace reads */
#define REC_HEADER_SIZE 16u
#define REC_BLOCK_HEADER_SIZE 12u
#define REC_BLOCK_TARGET (1u << 20)	/* a block is flushed once its raw bytes reach this */
#define REC_BLOCK_MAX (64u << 20)	/* a reader refuses blocks larger than this: corrupt */
#define REC_BLOCK_SPLIT (64u << 10)	/* a block's columns are zstd frames of their own from here */
#define REC_NO_STRING 0xffffffffu	/* a string's length when it is NULL */
/* Stack words the writer keeps (64 MiB); past this its table starts over from id 0. */
#define REC_STACK_WORDS_MAX (8u << 20)
/*
 * zstd's level for blocks. Measured on bench_scale's recording of 1 million calls (9.4 MB of
 * records in 1 MiB blocks, one CPU of the bench machine): level 1 keeps 73% of the bytes at
 * 330 MB/s, 3 keeps 63% at 135 MB/s, 5 keeps 62% at 86 MB/s, 7 61% at 20 MB/s. Past 3 the file
 * shrinks by 3% at most for 1.5 to 10 times the daemon's time: 3 it is (zstd's default too).
 */
#define REC_ZSTD_LEVEL 3

enum rec_type {
	REC_START = 1,	/* u64 start_ns: when the probes were in */
	REC_EVENT,	/* a struct mt_event as aggregated (Python frames merged): codec.c, its stack by id */
	REC_PROC,	/* what is known of a process; a later record of a pid replaces it */
	REC_MAPS,	/* a process's mappings as read from /proc/PID/maps, with build ids */
	REC_SYMBOL,	/* one (pid, address) resolved: module offset, function, file, line */
	REC_CLOCK,	/* u64 now_ns + loss counters: written with each flush */
	REC_END,	/* same payload as REC_CLOCK: the trace's final moment; the file is whole */
	REC_MAPPING,	/* a mapping frames resolved into, by id, for REC_SYMBOL to refer to */
	REC_UNWIND,	/* the CFI unwinder's statistics at the end (struct mt_unwind_stats) */
	REC_PYTHON,	/* a CPython process: what its Python frames are (struct mt_py_info) */
	REC_SAMPLE,	/* one point of a process's memory over time (struct mt_sample, VmHWM) */
	REC_FAULT_FILE,	/* the path file faults at a mapping's start are counted under, from here on */
	REC_FRAMES,	/* one (pid, address) that is several frames (inlined calls), all of them */
	REC_STACK,	/* varint id, varint n, n u64 words: a stack events name by id (the reader's) */
	REC_LABELS,	/* what fleets group a process by (struct proc_labels); a later one replaces it */
	REC__COUNT,
};

struct rec_clock {
	uint64_t now_ns;
	uint64_t loss[MT_LOSS__COUNT];
};

struct rec_proc {
	uint32_t pid;
	bool exited;
	char comm[16];
	const char *cmdline;		/* NULL when unknown */
};

struct rec_map {
	uint64_t start, end, offset, dev, inode;
	const char *path;		/* "" for anonymous mappings */
	const char *build_id;		/* NULL when unknown */
};

struct rec_maps {
	uint32_t pid;
	size_t n;
	const struct rec_map *maps;
};

#define REC_NO_MAPPING UINT32_MAX

struct rec_mapping {
	uint32_t id;			/* chosen by the writer; defined before any use */
	uint64_t start, end, file_offset;
	const char *path;		/* "[anon]" etc. for non-file mappings */
	const char *build_id;		/* NULL when unknown */
};

/* A frame exactly as the live symbolizer resolved it (struct mt_frame, by value). */
struct rec_symbol {
	uint32_t pid;
	int32_t line;
	uint64_t addr, module_offset;
	uint32_t mapping;		/* a REC_MAPPING id, or REC_NO_MAPPING */
	const char *function, *file;	/* NULL when unknown */
};

/*
 * The frames of one (pid, address) where calls were inlined, innermost first, names as their
 * objects spell them. Written after the address's REC_SYMBOL, which holds the outermost frame
 * alone for readers that do not know this record; it replaces that one.
 *   u32 pid | u32 mapping | u64 addr | u64 module_offset | u32 n |
 *   n x (u32 line | u32 flags (1: inlined) | string function | string file)
 */
struct rec_frame {
	int32_t line;
	bool inlined;
	const char *function, *file;	/* NULL when unknown */
};

struct rec_frames {
	uint32_t pid;
	uint32_t mapping;		/* a REC_MAPPING id, or REC_NO_MAPPING */
	uint64_t addr, module_offset;
	uint32_t n;
	const struct rec_frame *frames;
};

struct rec_python {
	uint32_t pid;
	struct mt_py_info info;		/* strings NULL when absent */
};

struct rec_sample {
	uint32_t pid;
	struct mt_sample x;
	uint64_t hwm_bytes;
};

struct rec_labels {
	uint32_t pid;
	const char *exe, *cgroup, *container_id, *service_name;	/* NULL when unknown */
};

struct rec_fault_file {
	uint32_t pid;
	uint64_t start;
	const char *path;
};

/* One record; pointers stay valid until the next rec_reader__next() call. */
struct rec_record {
	enum rec_type type;
	/*
	 * REC_EVENT: what the reader knows of it (struct agg_known): its nframes frames, in the
	 * stack table (NULL for none: the event's own frames[] are not filled); their key, the same
	 * for the same frames throughout the file (the stack table's id, and how many times the
	 * table started over), 0 for none; its blocks' places in the file's table of live blocks
	 * (record/codec.c)
	 */
	const struct agg_known *known;
	union {
		uint64_t start_ns;
		const struct mt_event *event;	/* header and body; frames: known->frames */
		struct rec_proc proc;
		struct rec_maps maps;
		struct rec_symbol symbol;
		struct rec_frames frames;
		struct rec_mapping mapping;
		struct rec_clock clock;		/* REC_CLOCK and REC_END */
		struct mt_unwind_stats unwind;	/* mode NULL when not recorded */
		struct rec_python python;
		struct rec_sample sample;
		struct rec_fault_file fault_file;
		struct rec_labels labels;
	};
};

/* Writer. Every call but close buffers; a block goes out when full or on rec_writer__flush(). */
struct rec_writer;

/* Create (truncate) path and write the header; 0 or -errno after saying what failed. */
int rec_writer__create(const char *path, struct rec_writer **out);
void rec_writer__start(struct rec_writer *w, uint64_t start_ns);
void rec_writer__event(struct rec_writer *w, const struct mt_event *e);
void rec_writer__proc(struct rec_writer *w, const struct rec_proc *p);
void rec_writer__maps(struct rec_writer *w, const struct rec_maps *m);
void rec_writer__mapping(struct rec_writer *w, const struct rec_mapping *m);
void rec_writer__symbol(struct rec_writer *w, const struct rec_symbol *s);
void rec_writer__frames(struct rec_writer *w, const struct rec_frames *f);
void rec_writer__clock(struct rec_writer *w, const struct rec_clock *c, bool end);
void rec_writer__unwind(struct rec_writer *w, const struct mt_unwind_stats *u);
void rec_writer__python(struct rec_writer *w, const struct rec_python *p);
void rec_writer__sample(struct rec_writer *w, const struct rec_sample *s);
void rec_writer__fault_file(struct rec_writer *w, const struct rec_fault_file *f);
void rec_writer__labels(struct rec_writer *w, const struct rec_labels *l);
/* Compress and write what is buffered as one block. 0, or the first write error (-errno). */
int rec_writer__flush(struct rec_writer *w);
/* Bytes written to the file so far, events recorded, distinct stacks written. */
uint64_t rec_writer__bytes(const struct rec_writer *w);
uint64_t rec_writer__events(const struct rec_writer *w);
uint64_t rec_writer__stacks(const struct rec_writer *w);
/* Flush and close; 0 or -errno, having said what failed. NULL is fine. */
int rec_writer__close(struct rec_writer *w);

/* Reader. */
struct rec_reader;

/* Read from f (not closed by the reader); name is used in messages. 0, or -errno having said why. */
int rec_reader__open(FILE *f, const char *name, struct rec_reader **out);
/*
 * The next record: 1, or 0 at the end, or -EBADMSG for a corrupt file (said, with the offset).
 * A file cut short ends (0) at its last whole block; rec_reader__truncated() tells.
 */
int rec_reader__next(struct rec_reader *r, struct rec_record *rec);
/* An event with what rec_reader__next would give for it: its own copy of the header. */
struct rec_event {
	struct mt_event event;		/* header and body (nframes set); frames[] not filled */
	struct agg_known known;		/* frames in the stack table (or NULL), key, places */
};
/*
 * The events that come next, as many as there are in a row in this block, up to max: *n of
 * them (0 when the next record is something else: rec_reader__next reads it). Their frames
 * stay valid until a record other than an event is read: the stack table changes only then.
 * 0, or -EBADMSG as rec_reader__next.
 */
int rec_reader__events(struct rec_reader *r, struct rec_event *out, size_t max, size_t *n);
/* Where a cut file stopped being readable, or 0 when it was not cut. */
uint64_t rec_reader__truncated(const struct rec_reader *r);
uint64_t rec_reader__offset(const struct rec_reader *r);	/* bytes of whole blocks read */
void rec_reader__free(struct rec_reader *r);

/* True when the first bytes of f look like a recording (f is rewound). */
bool recording__sniff(FILE *f);

#endif
