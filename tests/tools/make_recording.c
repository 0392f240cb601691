// SPDX-License-Identifier: BSD-2-Clause
/*
 * Writes a small recording by hand, with every record type, for tests that need no root and
 * as the fuzzer's seed: pid 500 ("app") allocates 3 x 2048 B in serve() and frees one, so serve
 * holds 4096 B in 2 blocks; serve is called from run(), inlined into main. Usage: make_recording FILE
 * (tests/integration/fuzz_recording.sh checks that it holds every type recording.h names)
 */
#include <stdio.h>

#include "record/recording.h"

static void event(struct rec_writer *w, uint32_t op, uint64_t addr, uint64_t size, uint64_t ts)
{
	struct mt_event e = { .op = op, .pid = 500, .tid = 500, .ts_ns = ts, .addr = addr,
			      .size = size, .nframes = op == MT_OP_FREE ? 0 : 2,
			      .frames = { 0x401010, 0x401110 } };

	rec_writer__event(w, &e);
}

int main(int argc, char **argv)
{
	struct rec_map maps[] = {
		{ 0x400000, 0x402000, 0, 0x801, 99, "/nonexistent/app", "00112233445566778899" },
		{ 0x7f0000000000, 0x7f0000004000, 0, 0, 0, "", NULL },
	};
	struct rec_clock clock = { .now_ns = 2000000000 };
	struct rec_writer *w;

	if (argc != 2 || rec_writer__create(argv[1], &w))
		return 1;
	rec_writer__start(w, 1000000000);
	rec_writer__proc(w, &(struct rec_proc){ 500, false, "app", "app --serve" });
	rec_writer__labels(w, &(struct rec_labels){ 500, "/nonexistent/app", "/system.slice/app.service",
						    NULL, "app" });
	rec_writer__maps(w, &(struct rec_maps){ 500, 2, maps });
	event(w, MT_OP_MALLOC, 0x7f0000000010, 2048, 1100000000);
	event(w, MT_OP_MALLOC, 0x7f0000000810, 2048, 1200000000);
	rec_writer__clock(w, &clock, false);
	rec_writer__flush(w);
	event(w, MT_OP_MALLOC, 0x7f0000001010, 2048, 1300000000);
	event(w, MT_OP_FREE, 0x7f0000000010, 0, 1400000000);
	rec_writer__mapping(w, &(struct rec_mapping){ 7, 0x400000, 0x402000, 0, "/nonexistent/app",
						      "00112233445566778899" });
	rec_writer__symbol(w, &(struct rec_symbol){ 500, 12, 0x401010, 0x1010, 7, "serve", "app.c" });
	rec_writer__symbol(w, &(struct rec_symbol){ 500, 30, 0x401110, 0x1110, 7, "main", "app.c" });
	/* main's address holds run(), inlined: two frames there */
	rec_writer__frames(w, &(struct rec_frames){ 500, 7, 0x401110, 0x1110, 2, (const struct rec_frame[]){
		{ 25, true, "_Z3runv", "app.c" }, { 30, false, "main", "app.c" } } });
	/* the rest of what a session writes: a file fault's path, a memory sample, what a Python
	 * process's frames are (app embeds CPython, without its symbols), the unwinder's statistics */
	rec_writer__fault_file(w, &(struct rec_fault_file){ 500, 0x400000, "/nonexistent/app" });
	rec_writer__sample(w, &(struct rec_sample){ 500, { 1500000000, 1 << 20, 4096, 0 }, 1 << 20 });
	rec_writer__python(w, &(struct rec_python){ 500, { "3.11.2", "/nonexistent/app", "unavailable",
							    "no symbols for the interpreter", NULL } });
	rec_writer__unwind(w, &(struct mt_unwind_stats){ .mode = "fp", .objects = 1, .rows = 10 });
	rec_writer__proc(w, &(struct rec_proc){ 500, true, "app", "app --serve" });
	clock.now_ns = 3000000000;
	rec_writer__clock(w, &clock, true);
	return rec_writer__close(w) ? 1 : 0;
}
