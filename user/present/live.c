// SPDX-License-Identifier: BSD-2-Clause
/*
 * The live view: a top-like ncurses screen drawn from the latest snapshot and the model's history
 * (live_model.c). It never blocks: the tracer's poll loop hands it a snapshot every interval and
 * lets it read keys in between. The terminal is given back on quit, on error exit and on a crash.
 */
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ncurses.h>

#include "present/live.h"
#include "present/live_model.h"
#include "present/label.h"
#include "present/report.h"
#include "lib/util.h"

#define KEY_POLL_NS (20 * 1000000ull)	/* keys are read at most this often */
#define MIN_COLS 40
#define MIN_LINES 8

struct live {
	SCREEN *scr;
	FILE *tty_in;			/* /dev/tty when stdin is not the terminal */
	struct live_model *model;
	struct mt_snapshot *snap;	/* the one on screen; the model borrows it */
	uint64_t interval_ns, next_ns, next_key_ns;
	double interval_s;
	enum live_sort sort;
	bool paused, expanded, editing, quit;
	bool utf8;			/* the terminal's locale is UTF-8: the sparkline uses blocks */
	char *old_ctype;		/* LC_CTYPE before the view, restored for the report */
	uint32_t sel_id;		/* the selected stack follows its id across refreshes */
	size_t sel, top;		/* selected row and first row shown */
	char filter[64];
};

/* The terminal, for the crash and exit handlers: at most one view exists. */
static volatile sig_atomic_t screen_active;
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

static void restore_terminal(void)
{
	if (screen_active) {
		screen_active = 0;
		endwin();
	}
}

/* endwin() is not async-signal-safe, but a crashing process with a broken terminal is worse. */
static void on_crash(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void crash_handlers(bool on)
{
	struct sigaction sa = { .sa_handler = on ? on_crash : SIG_DFL, .sa_flags = SA_RESETHAND };
	static bool registered;

	if (on && !registered) {
		atexit(restore_terminal);	/* an exit() from deep inside still restores it */
		registered = true;
	}
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, NULL);
}

/* ---- formatting ---- */

static const char *fmt_age(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%.1fs", ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, len, "%um%02us", (unsigned)(s / 60), (unsigned)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%uh%02um", (unsigned)(s / 3600), (unsigned)(s / 60 % 60));
	else
		snprintf(buf, len, "%ud%02uh", (unsigned)(s / 86400), (unsigned)(s / 3600 % 24));
	return buf;
}

/* Into buf always: the table's callers print buf, not what this returns. */
static const char *fmt_growth(int64_t d, char *buf)
{
	char b[16];

	if (!d)
		snprintf(buf, 16, "0");
	else
		snprintf(buf, 16, "%c%s", d > 0 ? '+' : '-',
			 mt_fmt_bytes(d > 0 ? (uint64_t)d : -(uint64_t)d, b));
	return buf;
}

static const char *fmt_rate(double r, char *buf)
{
	if (r < 10000)
		snprintf(buf, 16, "%.0f", r);
	else if (r < 10e6)
		snprintf(buf, 16, "%.1fk", r / 1e3);
	else
		snprintf(buf, 16, "%.1fM", r / 1e6);
	return buf;
}

/* Print at (y, x), clipped to the screen's width: nothing ever wraps onto the next line. */
static void put(int y, int x, attr_t attr, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(int y, int x, attr_t attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (y < 0 || y >= LINES || x >= COLS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	attrset(attr);
	mvaddnstr(y, x, buf, COLS - x);
	attrset(A_NORMAL);
}

/* A full-width bar, so a highlighted line reads as one. */
static void bar(int y, attr_t attr)
{
	attrset(attr);
	mvhline(y, 0, ' ', COLS);
	attrset(A_NORMAL);
}

/* ---- reading /proc ---- */


/* ---- drawing ---- */

static const char *const sort_name[] = {
	[LIVE_SORT_BYTES] = "bytes", [LIVE_SORT_GROWTH] = "growth",
	[LIVE_SORT_BLOCKS] = "blocks", [LIVE_SORT_AGE] = "age", [LIVE_SORT_GC] = "gc freed",
};

static void draw_title(const struct live *lv)
{
	const struct mt_snapshot *s = lv->snap;
	uint64_t lost = s->total[MT_KIND_HEAP].lost_events;

	bar(0, A_BOLD);
	char mean[16] = "", sampled[40] = "";

	if (mt_snapshot_sample_bytes(s))
		snprintf(sampled, sizeof(sampled), "  SAMPLED 1/%s (estimates)",
			 mt_fmt_bytes(mt_snapshot_sample_bytes(s), mean));
	put(0, 0, A_BOLD, "memtrace  %.1fs traced%s  lost events %llu%s  sort %s%s%s%s  ! = suspected leak",
	    (s->now_ns - s->start_ns) / 1e9, sampled, (unsigned long long)lost, lost ? " (!)" : "",
	    sort_name[lv->sort], lv->paused ? "  PAUSED" : "", *lv->filter ? "  filter " : "",
	    lv->filter);
}

static void draw_proc(const struct live *lv, int y, size_t i)
{
	const struct mt_proc *p = &lv->snap->procs[i];
	const struct mt_summary *h = &p->kind[MT_KIND_HEAP];
	struct live_rates r = live_model__rates(lv->model, i);
	char a[16], b[16], c[16], d[16], e[16], f[16];

	if (p->exited || !p->rss_bytes)
		snprintf(c, sizeof(c), "%s", p->exited ? "exited" : "?");
	else
		mt_fmt_bytes(p->rss_bytes, c);
	put(y, 0, A_NORMAL, "%7u %-10.10s %10s %10s %10s %7s %7s %10s/s", p->pid, p->comm,
	    mt_fmt_bytes(h->outstanding_bytes, a), mt_fmt_bytes(h->peak_outstanding_bytes, b), c,
	    fmt_rate(r.allocs_per_s, d), fmt_rate(r.frees_per_s, e),
	    mt_fmt_bytes((uint64_t)r.bytes_per_s, f));
}

#define SPARK_X 13		/* after "heap ", under the COMM column */
#define SPARK_LABEL_W 36	/* "  1023.9 KiB..1023.9 KiB in 9999.9s" and a margin */
#define SPARK_MIN_W 8		/* narrower than this, a sparkline says too little to cost a line */

static int spark_width(void) { return COLS - SPARK_X - SPARK_LABEL_W; }

/*
 * Under a process's line: its outstanding heap over the last refreshes that fit the width, as a
 * sparkline scaled to their own min..max, then that min..max and the time it spans.
 */
static void draw_spark(const struct live *lv, int y, size_t i)
{
	uint64_t v[LIVE_SPARK_MAX];
	char spark[3 * LIVE_SPARK_MAX + 1], a[16], b[16];
	int width = spark_width();
	uint64_t lo = UINT64_MAX, hi = 0;
	double span;
	size_t n, cells;

	n = live_model__heap_history(lv->model, i, v, width > 0 ? (size_t)width : 0, &span);
	if (!n)
		return;
	for (size_t k = 0; k < n; k++) {
		lo = v[k] < lo ? v[k] : lo;
		hi = v[k] > hi ? v[k] : hi;
	}
	cells = live_model__sparkline(v, n, n, lv->utf8, spark, sizeof(spark));
	put(y, 8, A_NORMAL, "heap");
	/* Not put(): it clips by bytes, and a UTF-8 cell is 3 bytes. The width already fits. */
	mvaddstr(y, SPARK_X, spark);
	put(y, SPARK_X + (int)cells, A_NORMAL, "  %s..%s in %.1fs", mt_fmt_bytes(lo, a),
	    mt_fmt_bytes(hi, b), span);
}

/* The per-process header; returns the next free line. Many processes fold into a last line. */
static int draw_procs(const struct live *lv, int y)
{
	const struct mt_snapshot *s = lv->snap;
	size_t room = LINES / 4 > 1 ? (size_t)LINES / 4 : 1, shown;
	/* Each process's sparkline takes a line of its own: only when all of them fit. */
	bool sparks = 2 * s->nprocs <= room && spark_width() >= SPARK_MIN_W;
	char a[16];

	put(y++, 0, A_UNDERLINE, "%7s %-10s %10s %10s %10s %7s %7s %12s", "PID", "COMM", "HEAP",
	    "PEAK", "RSS", "ALLOC/s", "FREE/s", "ALLOC B/s");
	shown = s->nprocs <= room ? s->nprocs : room - 1;
	for (size_t i = 0; i < shown; i++) {
		draw_proc(lv, y++, i);
		if (sparks)
			draw_spark(lv, y++, i);
	}
	if (shown < s->nprocs)
		put(y++, 0, A_NORMAL, "  ... %zu more processes; heap of all %zu: %s", s->nprocs - shown,
		    s->nprocs, mt_fmt_bytes(s->total[MT_KIND_HEAP].outstanding_bytes, a));
	return y;
}

static bool many_procs(const struct live *lv) { return lv->snap->nprocs > 1; }

/* Below 72 columns the blocks and interval-growth columns give way to the call site. */
static bool compact(void) { return COLS < 72; }

static void draw_table_head(const struct live *lv, int y)
{
	char gi[24], gw[24];

	if (lv->sort == LIVE_SORT_GC) {	/* the growth columns give way to the collector's */
		snprintf(gi, sizeof(gi), "GC FREED");
		snprintf(gw, sizeof(gw), "GC BLOCKS");
	} else {
		snprintf(gi, sizeof(gi), "GROW/%gs", lv->interval_s);
		snprintf(gw, sizeof(gw), "GROW/%.1fs", live_model__window_s(lv->model));
	}
	bar(y, A_REVERSE);
	if (compact())
		put(y, 0, A_REVERSE, "  %s%10s %11s %6s  CALL SITE", many_procs(lv) ? "    PID " : "",
		    "BYTES", lv->sort == LIVE_SORT_GC ? gi : gw, "AGE");
	else
		put(y, 0, A_REVERSE, "  %s%10s %7s %11s %11s %6s  CALL SITE",
		    many_procs(lv) ? "    PID " : "", "BYTES", "BLOCKS", gi, gw, "AGE");
}

static const char *site_label(const struct mt_stack *st, char *buf, size_t len)
{
	if (!st->nframes)
		return "[stack not captured]";
	return label__frame(&st->frames[st->site], LABEL_WHERE, buf, len);
}

static void draw_row(const struct live *lv, int y, const struct live_row *r, bool selected)
{
	const struct mt_stack *st = r->stack;
	char pid[16] = "", a[16], b[16], c[16], d[16], label[512];
	attr_t attr = (selected ? A_REVERSE : A_NORMAL) | (r->suspect ? A_BOLD | COLOR_PAIR(1) : 0);

	if (many_procs(lv))
		snprintf(pid, sizeof(pid), "%7u ", r->proc->pid);
	if (selected)
		bar(y, attr);
	if (lv->sort == LIVE_SORT_GC) {
		snprintf(b, sizeof(b), "%s", mt_fmt_bytes(st->gc_reclaimed_bytes, a));
		snprintf(c, sizeof(c), "%llu", (unsigned long long)st->gc_reclaimed_blocks);
	} else {
		fmt_growth(r->growth_interval, b);
		fmt_growth(r->growth_window, c);
	}
	if (compact())
		put(y, 0, attr, "%c %s%10s %11s %6s  %s", r->suspect ? '!' : ' ', pid,
		    mt_fmt_bytes(st->outstanding_bytes, a), lv->sort == LIVE_SORT_GC ? b : c,
		    fmt_age(r->age_ms, d, sizeof(d)), site_label(st, label, sizeof(label)));
	else
		put(y, 0, attr, "%c %s%10s %7llu %11s %11s %6s  %s", r->suspect ? '!' : ' ', pid,
		    mt_fmt_bytes(st->outstanding_bytes, a),
		    (unsigned long long)st->outstanding_allocations, b, c, fmt_age(r->age_ms, d, sizeof(d)),
		    site_label(st, label, sizeof(label)));
}

/* The selected row's whole stack, innermost frame first, the call site marked. */
static void draw_stack(const struct live_row *r, int y, int end)
{
	const struct mt_stack *st = r->stack;
	char label[512];

	put(y++, 0, A_BOLD, "  stack %u, %s, %u frames%s:", st->id, label__kind(st->kind),
	    st->nframes, r->suspect ? ", suspected leak" : "");
	for (uint32_t i = 0; i < st->nframes && y < end; i++, y++) {
		if (y == end - 1 && i + 1 < st->nframes) {
			put(y, 0, A_NORMAL, "     ... %u more frames", st->nframes - i);
			break;
		}
		put(y, 0, (int)i == st->site ? A_BOLD : A_NORMAL, "  %s %s",
		    (int)i == st->site ? "->" : "  ", label__frame(&st->frames[i], LABEL_WHERE, label, sizeof(label)));
	}
}

/* Keep the selection on the same stack if it is still shown, and in view. */
static void place_selection(struct live *lv, const struct live_row *rows, size_t n, size_t room)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].stack->id == lv->sel_id) {
			lv->sel = i;
			break;
		}
	if (lv->sel >= n)
		lv->sel = n ? n - 1 : 0;
	if (n)
		lv->sel_id = rows[lv->sel].stack->id;
	if (lv->sel < lv->top)
		lv->top = lv->sel;
	if (room && lv->sel >= lv->top + room)
		lv->top = lv->sel - room + 1;
}

static void draw_table(struct live *lv, int y, int end)
{
	const struct live_row *rows;
	size_t n = live_model__rows(lv->model, lv->sort, lv->filter, &rows);
	size_t room = end > y + 1 ? (size_t)(end - y - 1) : 0;

	draw_table_head(lv, y++);
	place_selection(lv, rows, n, lv->expanded ? 1 : room);
	if (!n) {
		put(y, 2, A_NORMAL, *lv->filter ? "no stack matches the filter" : "nothing outstanding yet");
		return;
	}
	if (lv->expanded) {
		draw_row(lv, y, &rows[lv->sel], true);
		draw_stack(&rows[lv->sel], y + 1, end);
		return;
	}
	for (size_t i = lv->top; i < n && y < end; i++)
		draw_row(lv, y++, &rows[i], i == lv->sel);
}

static void draw_help(const struct live *lv)
{
	int y = LINES - 1;

	bar(y, A_REVERSE);
	if (lv->editing)
		put(y, 0, A_REVERSE, "filter (a substring of any frame): %s_   Enter keep  Esc clear",
		    lv->filter);
	else
		put(y, 0, A_REVERSE, "q quit  sort: b bytes g growth c blocks a age r gc freed  "
		    "Enter stack  p pause  / filter");
}

static void draw(struct live *lv)
{
	int y;

	erase();
	if (LINES < MIN_LINES || COLS < MIN_COLS) {
		put(0, 0, A_NORMAL, "too small: %dx%d < %dx%d; q quits", COLS, LINES, MIN_COLS,
		    MIN_LINES);
	} else if (!lv->snap) {
		put(0, 0, A_BOLD, "memtrace: first snapshot in %gs ...", lv->interval_s);
		draw_help(lv);
	} else {
		draw_title(lv);
		y = draw_procs(lv, 1);
		draw_table(lv, y, LINES - 1);
		draw_help(lv);
	}
	refresh();
}

/* ---- the API ---- */

static FILE *key_input(FILE **tty_in)
{
	*tty_in = NULL;
	if (isatty(STDIN_FILENO))
		return stdin;
	*tty_in = fopen("/dev/tty", "re");	/* stdin redirected: keys still come from the terminal */
	return *tty_in;
}

struct live *live__open(double interval_s)
{
	struct live *lv = xcalloc(1, sizeof(*lv));
	FILE *in = key_input(&lv->tty_in);

	/* ncursesw draws multibyte characters only under the user's locale; the report is made
	 * after the view closes, under the locale it had before. */
	lv->old_ctype = xstrdup(setlocale(LC_CTYPE, NULL));
	setlocale(LC_CTYPE, "");
	lv->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	lv->scr = in ? newterm(NULL, stdout, in) : NULL;
	if (!lv->scr) {
		setlocale(LC_CTYPE, lv->old_ctype);
		free(lv->old_ctype);
		mt_warn("cannot open the live view on this terminal (TERM=%s); printing the report only",
			getenv("TERM") ? getenv("TERM") : "unset");
		if (lv->tty_in)
			fclose(lv->tty_in);
		free(lv);
		return NULL;
	}
	screen_active = 1;
	crash_handlers(true);
	cbreak();	/* not raw(): Ctrl-C and Ctrl-Z keep their usual meaning */
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
	}
	lv->model = live_model__new();
	lv->interval_s = interval_s;
	lv->interval_ns = (uint64_t)(interval_s * 1e9);
	lv->next_ns = mt_now_ns() + lv->interval_ns;
	lv->sort = LIVE_SORT_BYTES;
	draw(lv);
	return lv;
}

bool live__due(const struct live *lv)
{
	return !lv->paused && mt_now_ns() >= lv->next_ns;
}

void live__show(struct live *lv, struct mt_snapshot *snap)
{
	struct mt_snapshot *old = lv->snap;

	live_model__push(lv->model, snap);
	lv->snap = snap;
	snapshot__free(old);
	lv->next_ns = mt_now_ns() + lv->interval_ns;
	/* The traced command and our own warnings share this terminal: repaint every line. */
	redrawwin(stdscr);
	draw(lv);
}

#define NO_STACK UINT32_MAX	/* sel_id when the selection goes by row number instead */

static void move_selection(struct live *lv, long delta)
{
	long to = (long)lv->sel + delta;

	lv->sel = to < 0 ? 0 : (size_t)to;	/* draw_table() clamps the other end */
	lv->sel_id = NO_STACK;
}

/* A new order starts at its top row; between refreshes the selection follows its stack. */
static void sort_by(struct live *lv, enum live_sort sort)
{
	lv->sort = sort;
	lv->sel = lv->top = 0;
	lv->sel_id = NO_STACK;
}

/* Typing a filter: every key edits it, and the rows follow as it is typed. */
static void filter_key(struct live *lv, int ch)
{
	size_t len = strlen(lv->filter);

	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		lv->editing = false;
	} else if (ch == 27) {
		lv->editing = false;
		lv->filter[0] = 0;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (len)
			lv->filter[len - 1] = 0;
	} else if (ch >= 32 && ch < 127 && len + 1 < sizeof(lv->filter)) {
		lv->filter[len] = (char)ch;
		lv->filter[len + 1] = 0;
	}
}

static void key(struct live *lv, int ch)
{
	int page = LINES > 10 ? LINES - 10 : 1;

	switch (ch) {
	case 'q': case 'Q': lv->quit = true; break;
	case 'b': sort_by(lv, LIVE_SORT_BYTES); break;
	case 'g': sort_by(lv, LIVE_SORT_GROWTH); break;
	case 'c': sort_by(lv, LIVE_SORT_BLOCKS); break;
	case 'a': sort_by(lv, LIVE_SORT_AGE); break;
	case 'r': sort_by(lv, LIVE_SORT_GC); break;
	case KEY_UP: case 'k': move_selection(lv, -1); break;
	case KEY_DOWN: case 'j': move_selection(lv, 1); break;
	case KEY_PPAGE: move_selection(lv, -page); break;
	case KEY_NPAGE: move_selection(lv, page); break;
	case KEY_HOME: move_selection(lv, -(long)lv->sel); break;
	case KEY_END: move_selection(lv, 1L << 30); break;
	case '\n': case '\r': case KEY_ENTER: lv->expanded = !lv->expanded; break;
	case 27: lv->expanded = false; break;
	case 'p': case ' ': lv->paused = !lv->paused; break;
	case '/': lv->editing = true; break;
	case 12: clearok(curscr, TRUE); break;	/* Ctrl-L: repaint everything */
	default: break;				/* KEY_RESIZE: draw() reads the new size */
	}
}

bool live__keys(struct live *lv)
{
	uint64_t now = mt_now_ns();
	bool any = false;
	int ch;

	if (now < lv->next_key_ns)
		return lv->quit;
	lv->next_key_ns = now + KEY_POLL_NS;
	while (!lv->quit && (ch = getch()) != ERR) {
		if (lv->editing)
			filter_key(lv, ch);
		else
			key(lv, ch);
		any = true;
	}
	if (any && !lv->quit)
		draw(lv);
	return lv->quit;
}

void live__close(struct live *lv)
{
	if (!lv)
		return;
	restore_terminal();
	crash_handlers(false);
	delscreen(lv->scr);
	if (lv->tty_in)
		fclose(lv->tty_in);
	live_model__free(lv->model);
	snapshot__free(lv->snap);
	setlocale(LC_CTYPE, lv->old_ctype);
	free(lv->old_ctype);
	free(lv);
}
