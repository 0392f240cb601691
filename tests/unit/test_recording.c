// SPDX-License-Identifier: BSD-2-Clause
/*
 * The recording format: a round trip of every record type, a file cut at every byte offset (a
 * clean error or a partial read, never a crash), a damaged block, another version, an unknown
 * record type skipped, the stack table (each stack written once; an id defined nowhere is an
 * error), event records coded and decoded exactly for every op, blocks kept by the reader's
 * places exactly as by address, and a replay that symbolizes from recorded symbols alone.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/htab.h"
#include "model/model.h"
#include "record/codec.h"
#include "record/recording.h"
#include "session/replay.h"
#include "symbolize/demangle.h"
#include "tap.h"

static char path[] = "/tmp/test_recording.XXXXXX";

static struct mt_event event(uint32_t op, uint64_t addr, uint64_t size, uint32_t nframes)
{
	struct mt_event e = { .op = op, .pid = 77, .tid = 78, .addr = addr, .size = size,
			      .ts_ns = 2000 + addr, .nframes = nframes };

	for (uint32_t i = 0; i < nframes; i++)
		e.frames[i] = 0x401000 + 0x10 * i;
	return e;
}

/* Two blocks: the first ends after the first CLOCK (a flush), the second ends with END. */
static void write_sample(void)
{
	struct rec_writer *w;
	struct rec_map maps[] = {
		{ 0x400000, 0x402000, 0, 0x801, 1234, "/usr/bin/app", "a1b2c3" },
		{ 0x7f0000000000, 0x7f0000001000, 0, 0, 0, "", NULL },
	};
	struct rec_clock clock = { .now_ns = 5000, .loss = { 1, 2, 3, 4, 5 } };
	struct mt_event e;

	if (rec_writer__create(path, &w))
		exit(1);
	rec_writer__start(w, 1000);
	rec_writer__proc(w, &(struct rec_proc){ 77, false, "app", "app --serve" });
	rec_writer__maps(w, &(struct rec_maps){ 77, 2, maps });
	e = event(MT_OP_MALLOC, 0x10, 100, 3);
	rec_writer__event(w, &e);
	e = event(MT_OP_MALLOC, 0x20, 200, MT_MAX_FRAMES);
	rec_writer__event(w, &e);
	rec_writer__clock(w, &clock, false);
	rec_writer__flush(w);
	e = event(MT_OP_FREE, 0x10, 0, 0);
	rec_writer__event(w, &e);
	/* The mapping a frame was pinned to when seen: not the latest MAPS (a library since unloaded). */
	rec_writer__mapping(w, &(struct rec_mapping){ 0, 0x400000, 0x402000, 0, "/usr/lib/old.so", "ffee" });
	rec_writer__symbol(w, &(struct rec_symbol){ 77, 42, 0x401000, 0x1000, 0, "serve", "app.c" });
	rec_writer__symbol(w, &(struct rec_symbol){ 77, 0, 0x401010, 0x1010, REC_NO_MAPPING, NULL, NULL });
	rec_writer__proc(w, &(struct rec_proc){ 77, true, "app", NULL });
	clock.now_ns = 9000;
	rec_writer__clock(w, &clock, true);
	is_u64(rec_writer__events(w), 3, "writer counts events");
	ok(rec_writer__close(w) == 0, "writer closes cleanly");
}

static char *slurp(size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Reads every record of buf[0..len): the count, or -1 when the reader said the file is bad. */
static int read_all(const char *buf, size_t len, uint64_t *truncated)
{
	FILE *f = len ? fmemopen((void *)buf, len, "r") : fopen("/dev/null", "r");
	struct rec_reader *r;
	struct rec_record rec;
	int n = 0, err;

	*truncated = 0;
	if (rec_reader__open(f, "sample", &r)) {
		fclose(f);
		return -1;
	}
	while ((err = rec_reader__next(r, &rec)) > 0)
		n++;
	*truncated = rec_reader__truncated(r);
	rec_reader__free(r);
	fclose(f);
	return err < 0 ? -1 : n;
}

static void round_trip(void)
{
	FILE *f = fopen(path, "rb");
	struct rec_reader *r;
	struct rec_record rec;

	ok(rec_reader__open(f, path, &r) == 0, "reader opens the sample");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_START && rec.start_ns == 1000, "START 1000");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_PROC, "PROC");
	ok(rec.proc.pid == 77 && !rec.proc.exited && !strcmp(rec.proc.comm, "app") &&
	   rec.proc.cmdline && !strcmp(rec.proc.cmdline, "app --serve"), "PROC: pid, comm, cmdline");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_MAPS && rec.maps.n == 2, "MAPS with 2 entries");
	ok(rec.maps.maps[0].start == 0x400000 && rec.maps.maps[0].inode == 1234 &&
	   !strcmp(rec.maps.maps[0].path, "/usr/bin/app") && !strcmp(rec.maps.maps[0].build_id, "a1b2c3"),
	   "MAPS: range, inode, path, build id");
	ok(!strcmp(rec.maps.maps[1].path, "") && !rec.maps.maps[1].build_id, "MAPS: anonymous, no build id");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_EVENT && rec.event->nframes == 3 &&
	   rec.known->frames[2] == 0x401020 && rec.event->size == 100, "EVENT with 3 frames");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_EVENT &&
	   rec.event->nframes == MT_MAX_FRAMES && rec.known->frames[MT_MAX_FRAMES - 1] ==
	   0x401000 + 0x10 * (MT_MAX_FRAMES - 1), "EVENT with the most frames");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_CLOCK && rec.clock.now_ns == 5000 &&
	   rec.clock.loss[4] == 5, "CLOCK with losses");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_EVENT && rec.event->op == MT_OP_FREE &&
	   rec.event->nframes == 0, "EVENT from the second block");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_MAPPING && rec.mapping.id == 0 &&
	   rec.mapping.end == 0x402000 && !strcmp(rec.mapping.path, "/usr/lib/old.so") &&
	   !strcmp(rec.mapping.build_id, "ffee"), "MAPPING with id, range, path, build id");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_SYMBOL && rec.symbol.line == 42 &&
	   rec.symbol.mapping == 0 &&
	   !strcmp(rec.symbol.function, "serve") && !strcmp(rec.symbol.file, "app.c") &&
	   rec.symbol.module_offset == 0x1000, "SYMBOL with function, file, line");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_SYMBOL && !rec.symbol.function &&
	   !rec.symbol.file && rec.symbol.mapping == REC_NO_MAPPING, "SYMBOL unresolved: NULL strings survive");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_PROC && rec.proc.exited &&
	   !rec.proc.cmdline, "PROC: exited, cmdline unknown");
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_END && rec.clock.now_ns == 9000, "END");
	ok(rec_reader__next(r, &rec) == 0 && !rec_reader__truncated(r), "then a clean end");
	rec_reader__free(r);
	fclose(f);
}

/* Block boundaries of buf: offsets where a block ends. */
static size_t block_ends(const char *buf, size_t len, size_t *ends)
{
	size_t n = 0, at = REC_HEADER_SIZE;

	while (at + REC_BLOCK_HEADER_SIZE <= len) {
		uint32_t zlen;

		memcpy(&zlen, buf + at, 4);
		at += REC_BLOCK_HEADER_SIZE + zlen;
		ends[n++] = at;
	}
	return n;
}

static void every_cut(const char *buf, size_t len)
{
	size_t ends[8], nblocks = block_ends(buf, len, ends), bad = 0;
	uint64_t trunc;
	int full = read_all(buf, len, &trunc);

	is_u64(nblocks, 2, "the sample has two blocks");
	is_u64(ends[1], len, "the last block ends the file");
	is_u64(full, 12, "12 records in all");
	for (size_t cut = 0; cut < len; cut++) {
		int n = read_all(buf, cut, &trunc);
		bool whole = cut == REC_HEADER_SIZE || cut == ends[0];
		int want = cut < REC_HEADER_SIZE ? -1 : cut < ends[0] ? 0 : 6;	/* 6 in the first block */

		if (n != want || (whole ? trunc != 0 : cut >= REC_HEADER_SIZE && trunc != (cut < ends[0] ? REC_HEADER_SIZE : ends[0]))) {
			if (!bad++)
				printf("# cut at %zu: %d records, truncated at %llu\n", cut, n,
				       (unsigned long long)trunc);
		}
	}
	is_u64(bad, 0, "cut at each of %zu offsets: an error before the header ends, else the whole blocks before the cut, and where it was cut", len);
}

static void damaged(const char *buf, size_t len)
{
	char *copy = malloc(len);
	uint64_t trunc;

	memcpy(copy, buf, len);
	copy[REC_HEADER_SIZE + REC_BLOCK_HEADER_SIZE + 5] ^= 0x40;
	is_u64(read_all(copy, len, &trunc), (uint64_t)-1, "a flipped bit in a block's data: crc mismatch, an error");
	memcpy(copy, buf, len);
	copy[8] = 1;
	is_u64(read_all(copy, len, &trunc), (uint64_t)-1, "format version 1: refused");
	memcpy(copy, buf, len);
	copy[8] = REC_VERSION + 1;
	is_u64(read_all(copy, len, &trunc), (uint64_t)-1, "a newer format version: refused");
	memcpy(copy, buf, len);
	copy[0] = 'X';
	is_u64(read_all(copy, len, &trunc), (uint64_t)-1, "bad magic: refused");
	memcpy(copy, buf, len);
	copy[REC_HEADER_SIZE + 3] = 0x7f;	/* block length beyond any limit */
	is_u64(read_all(copy, len, &trunc), (uint64_t)-1, "absurd block length: an error");
	free(copy);
}

/*
 * A file of one block made by hand: records raw[0..n), then the event columns col[] (NULL: all
 * empty; each a length, then its bytes), with the zstd frame damaged on purpose before the crc
 * is computed: 1 its magic, 2 its last byte cut. Returns its length in buf.
 */
static size_t hand_block(const void *raw, size_t n, const unsigned char *const *col,
			 unsigned char *buf, size_t cap, int zbad)
{
	uint32_t hdr[3], v = REC_VERSION, flags = 0;
	unsigned char block[1024];
	size_t at = 0, zlen;

	at += codec__put_varint(block + at, n);
	at += codec__put_varint(block + at, CODEC_COLUMNS);
	for (int i = 0; i < CODEC_COLUMNS; i++)
		at += codec__put_varint(block + at, col && col[i] ? col[i][0] : 0);
	memcpy(block + at, raw, n);
	at += n;
	for (int i = 0; col && i < CODEC_COLUMNS; i++) {
		if (col[i]) {
			memcpy(block + at, col[i] + 1, col[i][0]);
			at += col[i][0];
		}
	}
	zlen = ZSTD_compress(buf + 28, cap - 28, block, at, 1);
	if (ZSTD_isError(zlen))
		exit(1);
	if (zbad == 1)
		buf[28] ^= 0x55;
	zlen -= zbad == 2;
	memcpy(buf, REC_MAGIC, 8);
	memcpy(buf + 8, &v, 4);
	memcpy(buf + 12, &flags, 4);
	hdr[0] = (uint32_t)zlen;
	hdr[1] = (uint32_t)at;
	hdr[2] = (uint32_t)crc32(0, buf + 28, (uInt)zlen);
	memcpy(buf + 16, hdr, 12);
	return 28 + zlen;
}

static size_t hand_file(const void *raw, size_t n, unsigned char *buf, size_t cap, int zbad)
{
	return hand_block(raw, n, NULL, buf, cap, zbad);
}

/* A block made by hand: a record of a type from the future, then a START. */
static void unknown_type(void)
{
	unsigned char raw[] = { 99, 4, 0xef, 0xbe, 0xad, 0xde, REC_START, 8, 0xd2, 0x04, 0, 0, 0, 0, 0, 0 };
	unsigned char buf[256];
	size_t len = hand_file(raw, sizeof(raw), buf, sizeof(buf), 0);
	uint64_t trunc;
	FILE *f;
	struct rec_reader *r;
	struct rec_record rec;

	is_u64(read_all((char *)buf, len, &trunc), 1, "an unknown record type is skipped");
	f = fmemopen(buf, len, "r");
	rec_reader__open(f, "hand", &r);
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_START && rec.start_ns == 1234,
	   "and the record after it is read");
	rec_reader__free(r);
	fclose(f);
	len = hand_file(raw, sizeof(raw), buf, sizeof(buf), 1);
	is_u64(read_all((char *)buf, len, &trunc), (uint64_t)-1,
	       "a zstd frame's magic damaged under a right crc: an error");
	len = hand_file(raw, sizeof(raw), buf, sizeof(buf), 2);
	is_u64(read_all((char *)buf, len, &trunc), (uint64_t)-1,
	       "a zstd frame cut short under a right crc: an error");
}

/* Stacks: each written once whatever the number of events naming it; the reader gives every
 * event its frames back; a table that starts over (id 0) is followed. */
static void stack_table(void)
{
	char spath[] = "/tmp/test_recording_st.XXXXXX";
	int fd = mkstemp(spath), bad = 0;
	struct rec_writer *w;
	struct rec_reader *r;
	struct rec_record rec;
	struct mt_event e;
	uint64_t bytes;
	FILE *f;

	close(fd);
	rec_writer__create(spath, &w);
	for (int i = 0; i < 30000; i++) {
		e = event(i % 5 == 4 ? MT_OP_FREE : MT_OP_MALLOC, 0x1000 + 16 * (uint64_t)i, 24 + i % 7,
			  i % 5 == 4 ? 0 : 10 + i % 3);
		e.frames[0] += e.nframes ? (uint64_t)(i % 3) << 20 : 0;
		rec_writer__event(w, &e);
	}
	is_u64(rec_writer__stacks(w), 3, "30,000 events of 3 stacks: 3 stacks written");
	rec_writer__close(w);
	f = fopen(spath, "rb");
	fseek(f, 0, SEEK_END);
	bytes = (uint64_t)ftell(f);
	ok(bytes < 30000 * 4, "in %" PRIu64 " bytes, under 4 a event (56 and 80-96 of frames each)",
	   bytes);
	rewind(f);
	rec_reader__open(f, spath, &r);
	for (int i = 0; i < 30000; i++) {
		struct mt_event want = event(i % 5 == 4 ? MT_OP_FREE : MT_OP_MALLOC,
					     0x1000 + 16 * (uint64_t)i, 24 + i % 7, i % 5 == 4 ? 0 : 10 + i % 3);

		want.frames[0] += want.nframes ? (uint64_t)(i % 3) << 20 : 0;
		if (rec_reader__next(r, &rec) != 1 || rec.type != REC_EVENT ||
		    memcmp(rec.event, &want, MT_EVENT_HDR_SIZE) ||
		    (want.nframes && memcmp(rec.known->frames, want.frames, 8 * want.nframes)))
			bad++;
	}
	is_u64(bad, 0, "each event read back whole, header, body and frames");
	ok(rec_reader__next(r, &rec) == 0, "and nothing after");
	rec_reader__free(r);
	fclose(f);
	unlink(spath);
}

/* Hand-made STACK and EVENT records: what the fuzzer's corpus says, asserted. */
static void stack_refs(void)
{
	/* STACK id 0 of 1 word (0x11, coded as a difference from 0, zigzag); an EVENT (flags: pid
	 * and stack; malloc, above codec.c's 7 bits of how the words are coded: a varint of two
	 * bytes); STACK id 0 again
	 * (a new table: 0x22, then 0x33 from 0x22); an EVENT naming stack 0 (now 2 frames). Their
	 * fields in the columns: pid 7 (low byte, then the rest), stack 0 twice. */
	unsigned char good[] = { REC_STACK, 3, 0, 1, 0x22,
				 REC_EVENT, 0x09, 0x80, MT_OP_MALLOC,
				 REC_STACK, 4, 0, 2, 0x44, 0x22,
				 REC_EVENT, 0x08, 0x80, MT_OP_MALLOC };
	unsigned char pid_lo[] = { 1, 7 }, pid_hi[] = { 1, 0 }, stack_lo[] = { 2, 0, 0 },
		      stack_hi[] = { 2, 0, 0 }, stack_1[] = { 1, 1 };
	const unsigned char *cols[CODEC_COLUMNS] = {
		[2 * CODEC_PID] = pid_lo, [2 * CODEC_PID + 1] = pid_hi,
		[2 * CODEC_STACK] = stack_lo, [2 * CODEC_STACK + 1] = stack_hi,
	};
	unsigned char buf[512], raw[64];
	uint64_t trunc;
	struct rec_reader *r;
	struct rec_record rec;
	size_t len = hand_block(good, sizeof(good), cols, buf, sizeof(buf), 0);
	FILE *f = fmemopen(buf, len, "r");

	rec_reader__open(f, "hand", &r);
	ok(rec_reader__next(r, &rec) == 1 && rec.type == REC_EVENT && rec.event->pid == 7 &&
	   rec.event->nframes == 1 && rec.known->frames[0] == 0x11, "an event gets its stack's frames");
	ok(rec_reader__next(r, &rec) == 1 && rec.event->nframes == 2 && rec.known->frames[1] == 0x33 &&
	   rec.event->pid == 7, "a STACK of id 0 starts the table over");
	ok(rec_reader__next(r, &rec) == 0, "and the block ends there");
	rec_reader__free(r);
	fclose(f);

	cols[2 * CODEC_STACK] = stack_1;	/* the event names stack 1: never defined */
	len = hand_block(good, 8, cols, buf, sizeof(buf), 0);
	is_u64(read_all((char *)buf, len, &trunc), (uint64_t)-1, "an event naming a stack defined nowhere: an error");
	memcpy(raw, good, 5);
	raw[2] = 5;	/* a first stack of id 5 */
	len = hand_file(raw, 5, buf, sizeof(buf), 0);
	is_u64(read_all((char *)buf, len, &trunc), (uint64_t)-1, "a STACK out of order: an error");
	memcpy(raw, good, 5);
	raw[3] = 2;	/* 2 words claimed, 1 there */
	len = hand_file(raw, 5, buf, sizeof(buf), 0);
	is_u64(read_all((char *)buf, len, &trunc), (uint64_t)-1, "a STACK shorter than its words: an error");
	cols[2 * CODEC_STACK] = cols[2 * CODEC_STACK + 1] = NULL;	/* no stack id in the columns */
	len = hand_block(good, 8, cols, buf, sizeof(buf), 0);
	is_u64(read_all((char *)buf, len, &trunc), (uint64_t)-1, "an event whose columns run short: an error");
	len = hand_block(good, 7, NULL, buf, sizeof(buf), 0);
	is_u64(read_all((char *)buf, len, &trunc), (uint64_t)-1, "an event cut short by its block's end: an error");
}

/*
 * Every op, random bodies, threads and times: coded then decoded, byte for byte; frees and
 * reallocs of blocks made before, so that live blocks and recent frees are named by index.
 */
static void codec_round_trip(void)
{
	struct codec enc, dec;
	struct codec_out out = { 0 };
	uint8_t buf[CODEC_EVENT_MAX];
	uint64_t x = 88172645463325252ull, made[64] = { 0 };
	int bad = 0, longest = 0, left = 0;

	codec__init(&enc, true);
	codec__init(&dec, false);
	for (int i = 0; i < 200000; i++) {
		struct mt_event e = { 0 }, got = { 0 };
		struct codec_in in;
		uint64_t w[4];
		uint32_t stack = 0, got_stack;
		struct agg_places pl;
		size_t n;

		for (int k = 0; k < 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			w[k] = (x & 3) == 0 ? 0 : (x & 3) == 1 ? x >> (x & 63) : x;
		}
		e.op = i % 1000 ? (uint32_t)(w[0] % (MT_OP__COUNT + 2)) : (uint32_t)w[0];
		e.pid = i % 7 ? 1000 : (uint32_t)w[1];
		e.tid = i % 3 ? e.pid : (uint32_t)w[2];
		e.ts_ns = i % 4 ? 1000000 * (uint64_t)i + (w[3] & 0xfff) : i % 8 ? 0 : w[3];
		stack = i % 5 ? (uint32_t)(w[1] % 100000) : i % 10 ? 0 : UINT32_MAX;
		memcpy((uint8_t *)&e + 24, w, 32);
		if (i % 3 == 0)	/* heap addresses: differences of a multiple of 16 */
			e.addr = 0x5500000000 + 16 * (w[1] % 100000);
		if (i % 2 && (e.op == MT_OP_FREE || e.op == MT_OP_GC_FREE))
			e.addr = made[w[2] % 64];
		if (i % 2 && (e.op == MT_OP_REALLOC))
			e.old_addr = made[w[2] % 64];
		if (i % 4 == 1)	/* a site's size again */
			e.size = 64;
		if (i % 11 == 0)
			memset((uint8_t *)&e + 24, 0, 32);
		if (e.addr)
			made[i % 64] = e.addr;
		codec__out_clear(&out);
		n = codec__encode_event(&enc, &e, stack, buf, &out);
		longest = n > (size_t)longest ? (int)n : longest;
		codec__in_start(&in, (const uint8_t *const *)out.p, out.n);
		if (n > 1 && codec__decode_event(&dec, buf, n - 1, &in, UINT32_MAX, &got, &got_stack, &pl))
			bad++;	/* a record a byte short: refused before anything is taken */
		if (codec__decode_event(&dec, buf, n, &in, UINT32_MAX, &got, &got_stack, &pl) != n ||
		    got_stack != stack || memcmp(&got, &e, MT_EVENT_HDR_SIZE))
			bad++;
		left += codec__in_left(&in) != 0;
	}
	is_u64(bad, 0, "200,000 events of every op coded and decoded exactly, a byte short refused");
	is_u64(left, 0, "each took from the columns what it gave them");
	ok(enc.nlive > 0 && enc.nlive == dec.nlive, "writer and reader hold the same %zu live blocks",
	   dec.nlive);
	ok(longest <= (int)CODEC_EVENT_MAX, "the longest record, %d bytes, within CODEC_EVENT_MAX", longest);
	codec__free(&enc);
	codec__free(&dec);
	codec__out_free(&out);
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return *x;
}

/* The event to apply next: mostly heap calls at addresses from a small pool (so that frees go
 * unseen, blocks are replaced and realloc meets every case), sometimes an exec. */
static struct mt_event place_event(uint64_t *x, uint64_t i)
{
	uint64_t r = xorshift(x), pool = 0x10000 + 16 * (r >> 8 & 4095);
	uint32_t kind = (uint32_t)(r % 100);
	struct mt_event e = { .pid = 100 + (uint32_t)(r >> 40 & 1), .tid = 5, .ts_ns = 1000 + i,
			      .addr = pool, .size = 1 + (r >> 20 & 255) };

	if (kind < 40) {
		e.op = kind < 30 ? MT_OP_MALLOC : MT_OP_CALLOC;
	} else if (kind < 75) {
		e.op = kind < 72 ? MT_OP_FREE : MT_OP_GC_FREE;
		e.old_addr = kind < 72 ? 0 : 7;	/* a collection's id */
		e.size = 0;
	} else if (kind < 95) {		/* moved, in place, realloc(NULL, n), realloc(p, 0), failed */
		e.op = MT_OP_REALLOC;
		e.old_addr = kind < 78 ? 0 : 0x10000 + 16 * (r >> 32 & 4095);
		e.addr = kind == 93 ? 0 : kind == 92 ? e.old_addr : e.addr;
		e.size = kind == 94 ? 0 : e.size;
		e.addr = kind == 94 ? 0 : e.addr;
	} else if (kind < 99) {
		e.op = MT_OP_PVALLOC;
	} else {
		e.op = MT_OP_EXEC;
		e.addr = e.size = 0;
		e.ts_ns = 0;
	}
	if (e.op != MT_OP_FREE && e.op != MT_OP_GC_FREE && e.op != MT_OP_EXEC) {
		e.nframes = 1;
		e.frames[0] = 0x401000 + (r >> 50 & 15);
	}
	return e;
}

struct blocks_cmp {
	struct htab *other;
	int differ;
};

static int block_differs(uint64_t addr, void *value, void *ctx)
{
	struct blocks_cmp *c = ctx;
	const struct agg_block *b = htab__lookup(c->other, addr);

	c->differ += !b || memcmp(b, value, sizeof(*b));
	return 0;
}

/* Everything the two aggregates hold: per process, per stack, every block. */
static int aggregates_differ(const struct model *a, const struct model *b)
{
	int differ = agg__nstacks(a->agg) != agg__nstacks(b->agg);

	for (size_t i = 0; !differ && i < agg__nstacks(a->agg); i++) {
		const struct agg_stack *x = agg__stack(a->agg, (uint32_t)i), *y = agg__stack(b->agg, (uint32_t)i);

		differ += x->outstanding_bytes != y->outstanding_bytes ||
			  x->outstanding_allocations != y->outstanding_allocations ||
			  x->allocated_bytes != y->allocated_bytes || x->allocations != y->allocations ||
			  x->gc_bytes != y->gc_bytes || x->gc_blocks != y->gc_blocks;
	}
	for (uint32_t pid = 100; pid <= 101; pid++) {
		const struct agg_proc *x = agg__find_proc(a->agg, pid), *y = agg__find_proc(b->agg, pid);
		struct blocks_cmp c = { y ? y->blocks : NULL, 0 };

		if (!x || !y) {
			differ += x != y;
			continue;
		}
		differ += memcmp(x->sum, y->sum, sizeof(x->sum)) != 0 ||
			  memcmp(&x->gc, &y->gc, sizeof(x->gc)) != 0 ||
			  htab__count(x->blocks) != htab__count(y->blocks);
		htab__each(x->blocks, block_differs, &c);
		differ += c.differ;
	}
	return differ;
}

/* One event through the coder, applied to by_place with the reader's places. */
static void apply_coded(struct codec *enc, struct codec *dec, struct codec_out *out,
			struct model *by_place, const struct mt_event *e, int *bad)
{
	uint8_t buf[CODEC_EVENT_MAX];
	struct mt_event got = { 0 };
	struct codec_in in;
	struct agg_known k = { 0 };
	uint32_t stack = e->nframes ? (uint32_t)(e->frames[0] - 0x401000) + 1 : 0, got_stack;
	size_t n;

	codec__out_clear(out);
	n = codec__encode_event(enc, e, stack, buf, out);
	codec__in_start(&in, (const uint8_t *const *)out->p, out->n);
	if (codec__decode_event(dec, buf, n, &in, UINT32_MAX, &got, &got_stack, &k.places) != n) {
		(*bad)++;
		return;
	}
	got.nframes = e->nframes;
	k.frames = (const uint64_t *)e->frames;
	k.key = got_stack;
	model__apply_known(by_place, &got, &k);
}

/*
 * The reader's places (struct agg_places) keep blocks exactly as addresses do: the same random
 * events, with lost frees, replaced blocks, every realloc outcome and execs, applied by address
 * to one model and by place to another. Then more blocks than the reader's table holds, so that
 * some go by address in the model kept by place, freed and replaced across the two.
 */
static void places_as_addresses(void)
{
	struct model *by_addr = model__new(), *by_place = model__new();
	struct codec enc, dec;
	struct codec_out out = { 0 };
	uint64_t x = 0x2545f4914f6cdd1dull, i = 0, held;
	int bad = 0, differ;

	codec__init(&enc, true);
	codec__init(&dec, false);
	for (; i < 300000; i++) {
		struct mt_event e = place_event(&x, i);

		model__apply(by_addr, &e);
		apply_coded(&enc, &dec, &out, by_place, &e, &bad);
	}
	for (uint64_t k = 0; k < CODEC_LIVE_MAX + 1000; k++, i++) {	/* past the table: by address */
		struct mt_event e = { .op = MT_OP_MALLOC, .pid = 100, .tid = 100, .ts_ns = 1000 + i,
				      .addr = 0x100000000 + 16 * k, .size = 8, .nframes = 1,
				      .frames = { 0x401000 } };

		model__apply(by_addr, &e);
		apply_coded(&enc, &dec, &out, by_place, &e, &bad);
	}
	ok(dec.nlive == CODEC_LIVE_MAX, "the reader's table is full (%zu blocks)", dec.nlive);
	held = htab__count(agg__find_proc(by_addr->agg, 100)->blocks);
	for (uint64_t k = 0; k < 200000; k++, i++) {	/* freed, replaced and made again, both kinds */
		uint64_t r = xorshift(&x), at = 0x100000000 + 16 * (r % (CODEC_LIVE_MAX + 1000));
		struct mt_event e = { .op = r >> 62 ? MT_OP_MALLOC : MT_OP_FREE, .pid = 100, .tid = 100,
				      .ts_ns = 1000 + i, .addr = at, .size = 16, .nframes = 1,
				      .frames = { 0x401001 } };

		if (e.op == MT_OP_FREE)
			e.nframes = 0;
		model__apply(by_addr, &e);
		apply_coded(&enc, &dec, &out, by_place, &e, &bad);
	}
	is_u64((uint64_t)bad, 0, "every event decoded");
	agg__places_done(by_place->agg);
	differ = aggregates_differ(by_addr, by_place);
	is_u64((uint64_t)differ, 0, "by place and by address: the same summaries, stacks and blocks");
	ok(agg__total(by_addr->agg, MT_KIND_HEAP)->unknown_frees > 1000 && held > CODEC_LIVE_MAX,
	   "the events had unknown frees (%llu) and more blocks (%llu) than the table holds",
	   (unsigned long long)agg__total(by_addr->agg, MT_KIND_HEAP)->unknown_frees,
	   (unsigned long long)held);
	codec__free(&enc);
	codec__free(&dec);
	codec__out_free(&out);
	model__free(by_addr);
	model__free(by_place);
}

/* Replay with no binary around: names come from the SYMBOL records, modules from MAPS. */
static void replay(void)
{
	FILE *f = fopen(path, "rb");
	struct replay *r;
	const struct mt_snapshot *s;
	const struct mt_stack *st;

	ok(replay__load(f, path, false, &r) == 0, "the sample replays");
	fclose(f);
	s = replay__snapshot(r);
	is_u64(s->nprocs, 1, "one process");
	is_u64(s->now_ns - s->start_ns, 8000, "start and end times from START and END");
	is_u64(s->loss[MT_LOSS_STACK], 3, "losses from END");
	ok(s->procs[0].exited && !strcmp(s->procs[0].comm, "app"), "the last PROC record wins");
	is_u64(s->total[MT_KIND_HEAP].outstanding_bytes, 200, "events applied: 300 allocated, 100 freed");
	st = &s->procs[0].stacks[0];
	is_u64(st->outstanding_bytes, 200, "the outstanding stack first");
	is_str(st->frames[0].function, "serve", "its first frame named by the SYMBOL record");
	is_u64(st->frames[0].line, 42, "with its line");
	is_str(st->frames[0].mapping ? st->frames[0].mapping->path : NULL, "/usr/lib/old.so",
	       "in the mapping it was pinned to, not the latest MAPS");
	is_str(st->frames[0].mapping ? st->frames[0].mapping->build_id : NULL, "ffee", "with its build id");
	is_u64(st->frames[1].module_offset, 0x1010, "an unresolved frame keeps its recorded module offset");
	ok(!st->frames[1].mapping, "and its recorded lack of a mapping");
	is_str(st->frames[2].mapping ? st->frames[2].mapping->path : NULL, "/usr/bin/app",
	       "a frame without a SYMBOL record falls back to the recorded MAPS");
	replay__free(r);
}

/* A CPython process: its Python frames named by SYMBOL records, what PYTHON said of it, its
 * memory over time from SAMPLE, a file fault named by FAULT_FILE. */
static void python_replay(void)
{
	char py_path[] = "/tmp/test_recording_py.XXXXXX";
	int fd = mkstemp(py_path);
	const uint64_t py_frame = MT_PY_TAG | (7ull << MT_PY_INSTR_SHIFT) | 3;	/* code 3, instr 7 */
	struct mt_event e = event(MT_OP_MALLOC, 0x5000, 64, 2), fault;
	struct rec_python rp = { 77, { "3.11.2", "/usr/bin/python3.11", "mixed", NULL,
				       "objects over 512 bytes", false } };
	struct rec_writer *w;
	struct replay *r;
	const struct mt_proc *p;
	const struct mt_stack *st;
	FILE *f;

	close(fd);
	e.frames[1] = py_frame;
	rec_writer__create(py_path, &w);
	rec_writer__start(w, 1000);
	rec_writer__proc(w, &(struct rec_proc){ .pid = 77, .comm = "python3" });
	rec_writer__event(w, &e);
	rec_writer__python(w, &rp);
	rec_writer__symbol(w, &(struct rec_symbol){ 77, 48, py_frame, 0, REC_NO_MAPPING, "small", "app.py" });
	rec_writer__sample(w, &(struct rec_sample){ 77, { 2500, 1 << 20, 64, 0 }, 2 << 20 });
	/* A file fault after its FAULT_FILE: named without /proc. */
	rec_writer__fault_file(w, &(struct rec_fault_file){ 77, 0x7f0000, "/usr/lib/libx.so" });
	fault = event(MT_OP_FAULT, 0x7f0123, 4096, 1);
	fault.fault.map_start = 0x7f0000;
	fault.fault.map = MT_MAP_FILE | MT_FAULT_SIZED;
	rec_writer__event(w, &fault);
	rec_writer__clock(w, &(struct rec_clock){ .now_ns = 3000 }, true);
	ok(rec_writer__close(w) == 0, "a recording of a Python process is written");
	f = fopen(py_path, "rb");
	ok(replay__load(f, py_path, false, &r) == 0, "and replays");
	fclose(f);
	p = &replay__snapshot(r)->procs[0];
	ok(p->python && !strcmp(p->python->version, "3.11.2") && !strcmp(p->python->frames, "mixed") &&
	   !p->python->why && !strcmp(p->python->coverage, "objects over 512 bytes") && !p->python->complete,
	   "the process is CPython, as the PYTHON record says");
	ok(p->nsamples == 1 && p->samples[0].ts_ns == 2500 && p->samples[0].rss_bytes == 1 << 20 &&
	   p->samples[0].heap_bytes == 64 && p->peak.rss_hwm_bytes == 2 << 20,
	   "its memory over time from the SAMPLE record, VmHWM too");
	ok(p->resident.nfiles == 1 && !strcmp(p->resident.files[0].path, "/usr/lib/libx.so") &&
	   p->resident.files[0].faults.bytes == 4096 && p->resident.total.minor == 1,
	   "a file fault counted under the path its FAULT_FILE record gave");
	st = &p->stacks[0];
	is_u64(st->site, 1, "the call site is the Python frame");
	is_str(st->frames[1].function, "small", "named by its SYMBOL record");
	ok(st->frames[1].file && !strcmp(st->frames[1].file, "app.py") && st->frames[1].line == 48,
	   "with its file and line");
	is_u64(st->frames[1].addr, py_frame, "its address kept: the Python views know it by that");
	replay__free(r);
	unlink(py_path);
}

/*
 * Inlined calls: REC_FRAMES replaces its address's REC_SYMBOL with every frame; names recorded as
 * the objects spell them are demangled on replay (a C++ and a Rust v0 name), or not with
 * --no-demangle; the reader hands back what was written.
 */
static void inline_replay(void)
{
	char in_path[] = "/tmp/test_recording_inl.XXXXXX";
	int fd = mkstemp(in_path);
	struct mt_event e = event(MT_OP_MALLOC, 0x6000, 64, 3);
	const struct rec_frame chain[] = {
		{ 5, true, "_ZN5store6helperEi", "/src/h.h" },
		{ 12, false, "_ZN5store4keepEv", "/src/k.cc" },
	};
	struct rec_writer *w;
	struct rec_reader *rd;
	struct rec_record rec;
	struct replay *r;
	const struct mt_stack *st;
	int frames_seen = 0;
	FILE *f;

	close(fd);
	rec_writer__create(in_path, &w);
	rec_writer__start(w, 1000);
	rec_writer__proc(w, &(struct rec_proc){ .pid = 77, .comm = "app" });
	rec_writer__event(w, &e);
	rec_writer__mapping(w, &(struct rec_mapping){ 3, 0x400000, 0x402000, 0, "/usr/bin/app", NULL });
	/* 0x401000: store::helper() inlined into store::keep(); its REC_SYMBOL has the outer alone */
	rec_writer__symbol(w, &(struct rec_symbol){ 77, 12, 0x401000, 0x1000, 3, "_ZN5store4keepEv", "/src/k.cc" });
	rec_writer__frames(w, &(struct rec_frames){ 77, 3, 0x401000, 0x1000, 2, chain });
	rec_writer__symbol(w, &(struct rec_symbol){ 77, 30, 0x401010, 0x1010, 3, "_RNvCs1234_7mycrate4main", "/src/main.rs" });
	rec_writer__symbol(w, &(struct rec_symbol){ 77, 0, 0x401020, 0x1020, 3, "_start", NULL });
	rec_writer__clock(w, &(struct rec_clock){ .now_ns = 3000 }, true);
	ok(rec_writer__close(w) == 0, "a recording with an inline chain is written");

	f = fopen(in_path, "rb");
	rec_reader__open(f, in_path, &rd);
	while (rec_reader__next(rd, &rec) == 1)
		if (rec.type == REC_FRAMES) {
			frames_seen++;
			ok(rec.frames.pid == 77 && rec.frames.mapping == 3 && rec.frames.addr == 0x401000 &&
			   rec.frames.module_offset == 0x1000 && rec.frames.n == 2,
			   "REC_FRAMES reads back: pid, mapping, address, offset, count");
			ok(rec.frames.frames[0].line == 5 && rec.frames.frames[0].inlined &&
			   !strcmp(rec.frames.frames[0].function, "_ZN5store6helperEi") &&
			   !strcmp(rec.frames.frames[0].file, "/src/h.h") &&
			   rec.frames.frames[1].line == 12 && !rec.frames.frames[1].inlined &&
			   !strcmp(rec.frames.frames[1].function, "_ZN5store4keepEv"),
			   "and its frames, innermost first");
		}
	is_u64(frames_seen, 1, "one REC_FRAMES");
	rec_reader__free(rd);
	fclose(f);

	f = fopen(in_path, "rb");
	ok(replay__load(f, in_path, false, &r) == 0, "it replays");
	fclose(f);
	st = &replay__snapshot(r)->procs[0].stacks[0];
	is_u64(st->nframes, 4, "three addresses, four frames: the inlined call is a frame of its own");
	is_str(st->frames[0].function, "store::helper(int)", "the inlined function first, demangled");
	is_str(st->frames[0].mangled, "_ZN5store6helperEi", "its mangled name beside");
	ok(st->frames[0].inlined && st->frames[0].line == 5 && !strcmp(st->frames[0].file, "/src/h.h"),
	   "marked inlined, at its own line");
	is_str(st->frames[1].function, "store::keep()", "then the function it was inlined into");
	ok(!st->frames[1].inlined && st->frames[1].line == 12 && st->frames[1].addr == 0x401000 &&
	   st->frames[1].module_offset == 0x1000 && st->frames[1].mapping &&
	   !strcmp(st->frames[1].mapping->path, "/usr/bin/app"),
	   "at the call's line, same address, offset and mapping");
	is_str(st->frames[2].function, "mycrate::main", "a Rust v0 name in a REC_SYMBOL is demangled");
	is_str(st->frames[3].function, "_start", "a C name stays");
	ok(!st->frames[3].mangled, "and has no mangled name");
	replay__free(r);

	mt_demangle = false;	/* --no-demangle */
	f = fopen(in_path, "rb");
	replay__load(f, in_path, false, &r);
	fclose(f);
	st = &replay__snapshot(r)->procs[0].stacks[0];
	ok(st->nframes == 4 && !strcmp(st->frames[0].function, "_ZN5store6helperEi") &&
	   !st->frames[0].mangled && !strcmp(st->frames[2].function, "_RNvCs1234_7mycrate4main"),
	   "--no-demangle: names as the objects spell them, no mangled beside");
	replay__free(r);
	mt_demangle = true;
	unlink(in_path);
}

int main(void)
{
	size_t len;
	char *buf;
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	write_sample();
	round_trip();
	buf = slurp(&len);
	every_cut(buf, len);
	damaged(buf, len);
	unknown_type();
	stack_table();
	stack_refs();
	codec_round_trip();
	places_as_addresses();
	replay();
	python_replay();
	inline_replay();
	free(buf);
	unlink(path);
	return done_testing();
}
