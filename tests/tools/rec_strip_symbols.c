// SPDX-License-Identifier: BSD-2-Clause
/*
 * Copies a recording without its symbols (REC_SYMBOL, REC_FRAMES, REC_MAPPING): `memtrace report`
 * of the copy then symbolizes from the local objects, as a recording made elsewhere without them
 * would be. For scripts/bench-symbolize, which times that. Usage: rec_strip_symbols IN OUT
 */
#include <stdio.h>
#include <string.h>

#include "record/recording.h"

static void copy(struct rec_writer *w, const struct rec_record *r)
{
	switch (r->type) {
	case REC_START:
		rec_writer__start(w, r->start_ns);
		break;
	case REC_EVENT: {
		static struct mt_event e;	/* the reader leaves the frames in its stack table */

		memcpy(&e, r->event, MT_EVENT_HDR_SIZE);
		if (e.nframes)
			memcpy(e.frames, r->known->frames, 8 * (size_t)e.nframes);
		rec_writer__event(w, &e);
		break;
	}
	case REC_PROC:
		rec_writer__proc(w, &r->proc);
		break;
	case REC_MAPS:
		rec_writer__maps(w, &r->maps);
		break;
	case REC_CLOCK:
	case REC_END:
		rec_writer__clock(w, &r->clock, r->type == REC_END);
		break;
	case REC_UNWIND:
		rec_writer__unwind(w, &r->unwind);
		break;
	case REC_PYTHON:
		rec_writer__python(w, &r->python);
		break;
	case REC_SAMPLE:
		rec_writer__sample(w, &r->sample);
		break;
	case REC_FAULT_FILE:
		rec_writer__fault_file(w, &r->fault_file);
		break;
	default:	/* the symbols, and what this tool does not know */
		break;
	}
}

int main(int argc, char **argv)
{
	struct rec_reader *r;
	struct rec_writer *w;
	struct rec_record rec;
	FILE *in;
	int rc;

	if (argc != 3 || !(in = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: rec_strip_symbols IN OUT\n");
		return 2;
	}
	if (rec_reader__open(in, argv[1], &r) || rec_writer__create(argv[2], &w))
		return 1;
	while ((rc = rec_reader__next(r, &rec)) > 0)
		copy(w, &rec);
	rec_reader__free(r);
	fclose(in);
	return rec_writer__close(w) || rc < 0;
}
