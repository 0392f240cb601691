/* SPDX-License-Identifier: BSD-2-Clause */
/* The final report: text for people, JSON for scripts. Pure functions of a snapshot. */
#ifndef MT_REPORT_H
#define MT_REPORT_H

#include <stdio.h>

#include "lib/json.h"
#include "model/snapshot.h"

int report__text(const struct mt_snapshot *s, FILE *f, int top_n);
int report__json(const struct mt_snapshot *s, FILE *f);

/* The memory sections of a process (report_memory.c): resident, peak, OOM kill, timeline. */
void report__text_memory(FILE *f, const struct mt_snapshot *s, const struct mt_proc *p, int top_n);
void report__json_memory(struct json *j, const struct mt_snapshot *s, const struct mt_proc *p);
/* The trace's fault totals, as "resident". */
void report__json_faults(struct json *j, const struct mt_faults *total);
/* A stack's frames, innermost first, the call site marked "->" (report_text.c). */
void report__text_frames(FILE *f, const struct mt_stack *st);

/* --leak-check (report_leak.c): the categories and the check's cost; then the loss records. */
void report__text_leak(FILE *f, const struct mt_proc *p);
void report__text_leak_records(FILE *f, const struct mt_proc *p, int top_n);
void report__json_leak(struct json *j, const struct mt_proc *p);
void report__json_stack_leak(struct json *j, const struct mt_proc *p, const struct mt_stack *st);

/* A summary's counters as the object key (report_json.c). */
void report__json_summary(struct json *j, const char *key, const struct mt_summary *m);
/* A stack's id, kind and counts, into the open object (report_json.c). */
void report__json_stack_figures(struct json *j, const struct mt_stack *st);
/* One frame as a JSON object (report_json.c). */
void report__json_frame(struct json *j, const struct mt_frame *fr);
/* The process's stacks that held memory at its heap peak, most first; free the array. */
const struct mt_stack **report__stacks_at_peak(const struct mt_proc *p, size_t *n);

#endif
