// SPDX-License-Identifier: BSD-2-Clause
/* pprof presenter: exact bytes for a one-frame profile, structure of the fixture's, the gzip file. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "fixture.h"
#include "lib/util.h"
#include "present/pprof.h"
#include "tap.h"

/* Worked out by hand from profile.proto: see the comment on each field. */
static const char tiny_want[] =
	"\x0a\x04\x08\x01\x10\x02"	/* sample_type {alloc_objects=1, count=2} */
	"\x0a\x04\x08\x03\x10\x04"	/* sample_type {alloc_space=3, bytes=4} */
	"\x0a\x04\x08\x05\x10\x02"	/* sample_type {inuse_objects=5, count} */
	"\x0a\x04\x08\x06\x10\x04"	/* sample_type {inuse_space=6, bytes} */
	"\x5a\x04\x08\x07\x10\x04"	/* period_type (11) {space=7, bytes} */
	"\x60\x01"			/* period (12) = 1 */
	"\x70\x06"			/* default_sample_type (14) = inuse_space */
	"\x12\x1b"			/* sample, 27 bytes: */
	"\x0a\x01\x01"			/*   location_id [1] */
	"\x12\x04\x02\x30\x01\x10"	/*   value [2, 48, 1, 16] */
	"\x1a\x04\x08\x0b\x18\x07"	/*   label {key=pid(11), num=7} */
	"\x1a\x04\x08\x0c\x10\x0d"	/*   label {key=comm(12), str=a(13)} */
	"\x1a\x04\x08\x0e\x10\x0f"	/*   label {key=kind(14), str=heap(15)} */
	"\x1a\x10"			/* mapping, 16 bytes: */
	"\x08\x01\x10\x80\x20\x18\x80\x40" /*  id 1, start 0x1000, limit 0x2000 */
	"\x28\x08\x38\x01\x40\x01\x48\x01" /*  filename=/x(8), has_functions, _filenames, _lines */
	"\x22\x0d"			/* location, 13 bytes: */
	"\x08\x01\x10\x01\x18\xb4\x24"	/*   id 1, mapping 1, address 0x1234 */
	"\x22\x04\x08\x01\x10\x03"	/*   line {function 1, line 3} */
	"\x2a\x08\x08\x01\x10\x09\x18\x09\x20\x0a" /* function {1, name=f(9), system f, file f.c(10)} */
	"\x32\x00"			/* string_table (6): "" */
	"\x32\x0d" "alloc_objects" "\x32\x05" "count" "\x32\x0b" "alloc_space" "\x32\x05" "bytes"
	"\x32\x0d" "inuse_objects" "\x32\x0b" "inuse_space" "\x32\x05" "space" "\x32\x02" "/x"
	"\x32\x01" "f" "\x32\x03" "f.c" "\x32\x03" "pid" "\x32\x04" "comm" "\x32\x01" "a"
	"\x32\x04" "kind" "\x32\x04" "heap";

static void test_tiny_exact(void)
{
	static const struct mt_mapping map = { 0x1000, 0x2000, 0, "/x", NULL };
	static const struct mt_frame fr[] = { { .addr = 0x1234, .module_offset = 0x234, .function = "f", .file = "f.c", .line = 3, .mapping = &map } };
	static const struct mt_stack st[] = { { 1, MT_KIND_HEAP, 16, 1, 48, 2, 0, 1, fr, 0 } };
	static const struct mt_proc procs[] = { { .pid = 7, .comm = "a", .nstacks = 1, .stacks = st } };
	static const struct mt_snapshot s = { .nprocs = 1, .procs = procs };
	struct pb b = { 0 };
	size_t i;

	pprof__encode(&s, NULL, &b);
	if (ok(b.len == sizeof(tiny_want) - 1 && !memcmp(b.data, tiny_want, b.len),
	       "one-frame profile is exactly the hand-encoded bytes"))
		goto out;
	printf("#   got %zu bytes:", b.len);
	for (i = 0; i < b.len; i++)
		printf(" %02x", b.data[i]);
	printf("\n");
out:
	pb__free(&b);
}

/* A reader just big enough to check structure: fields of one message, by number. */
struct field {
	uint32_t num;
	uint64_t v;			/* varint value, or length */
	const uint8_t *p;		/* length-delimited contents */
};

static uint64_t get_varint(const uint8_t **p)
{
	uint64_t v = 0;
	int shift = 0;

	do
		v |= (uint64_t)(**p & 0x7f) << shift, shift += 7;
	while (*(*p)++ & 0x80);
	return v;
}

static size_t fields(const uint8_t *p, size_t len, struct field *out, size_t max)
{
	const uint8_t *end = p + len;
	size_t n = 0;

	while (p < end && n < max) {
		uint64_t tag = get_varint(&p);

		out[n].num = tag >> 3;
		out[n].v = get_varint(&p);
		out[n].p = p;
		if ((tag & 7) == 2)
			p += out[n].v;
		n++;
	}
	return n;
}

/* The n-th value of field num inside message m (varint, or a packed entry when packed). */
static uint64_t value_of(const struct field *m, uint32_t num, size_t nth, bool packed)
{
	struct field f[64];
	size_t i, n = fields(m->p, m->v, f, 64);

	for (i = 0; i < n; i++) {
		const uint8_t *p = f[i].p;

		if (f[i].num != num)
			continue;
		if (!packed)
			return f[i].v;
		while (nth--)
			get_varint(&p);
		return get_varint(&p);
	}
	return UINT64_MAX;
}

static void test_fixture_structure(void)
{
	static struct field f[1024];
	const char *strings[256];
	size_t n, i, counts[16] = { 0 }, nstr = 0;
	const struct field *sample[8], *func = NULL;
	struct pb b = { 0 };

	pprof__encode(&fix_snapshot, NULL, &b);
	n = fields(b.data, b.len, f, 1024);
	for (i = 0; i < n; i++) {
		if (f[i].num == 2 && counts[2] < 8)
			sample[counts[2]] = &f[i];
		if (f[i].num == 6 && nstr < 256)
			strings[nstr++] = strndup((const char *)f[i].p, f[i].v);
		if (f[i].num < 16)
			counts[f[i].num]++;
	}
	is_u64(counts[1], 4, "four sample types");
	is_u64(counts[2], 6, "one sample per stack, the fully freed one included");
	is_u64(counts[3], 2, "two mappings: the executable and libc");
	is_u64(counts[4], 13, "13 locations: frames from the call site, deduplicated by address");
	is_u64(counts[5], 9, "9 functions: one per (name, file), leak_buffers once");
	is_str(strings[0], "", "string_table[0] is empty");
	/* fix_snapshot's second stack is leak_buffers via run_server: values in Go's order. */
	is_u64(value_of(sample[1], 2, 0, true), 512, "alloc_objects");
	is_u64(value_of(sample[1], 2, 1, true), 2097152, "alloc_space");
	is_u64(value_of(sample[1], 2, 2, true), 256, "inuse_objects");
	is_u64(value_of(sample[1], 2, 3, true), 1048576, "inuse_space");
	for (i = 0; i < n && !func; i++)	/* leaf location is 4 (after the mmap stack's 3) */
		if (f[i].num == 4 && value_of(&f[i], 1, 0, false) == value_of(sample[1], 1, 0, true))
			func = &f[i];
	ok(func && value_of(func, 3, 0, false) == 0x555555555189, "leaf location is the call site");
	for (i = 0; i < n; i++)
		if (f[i].num == 5 && value_of(&f[i], 1, 0, false) == 1)
			is_str(strings[value_of(&f[i], 2, 0, false)], "map_arena",
			       "function 1 is the first stack's site");
	for (i = 0; i < nstr; i++)
		free((char *)strings[i]);
	pb__free(&b);
}

static void test_file_is_gzip(void)
{
	char path[] = "/tmp/test_pprof.XXXXXX", buf[1 << 16];
	int fd = mkstemp(path);
	struct pb raw = { 0 };
	gzFile gz;
	int n;

	close(fd);
	pprof__encode(&fix_snapshot, NULL, &raw);
	ok(pprof__write(&fix_snapshot, path) == 0, "pprof__write succeeds");
	gz = gzopen(path, "rb");
	ok(gz && gzdirect(gz) == 0, "the file is gzip-compressed");
	n = gz ? gzread(gz, buf, sizeof(buf)) : -1;
	ok(n == (int)raw.len && !memcmp(buf, raw.data, raw.len), "and inflates to the encoded profile");
	if (gz)
		gzclose(gz);
	unlink(path);
	pb__free(&raw);
	ok(pprof__write(&fix_snapshot, "/nonexistent/dir/x.pb.gz") < 0, "an unwritable path fails");
}

/* time_nanos (field 9) only when a time is given; mt_unix_ns() maps a monotonic moment onto it. */
static void test_time(void)
{
	static struct field f[1024];
	struct pprof_opts o = { .time_ns = mt_unix_ns(mt_now_ns() - 2000000000ull) };
	struct timespec now;
	uint64_t unix_now, got = 0;
	size_t n, i, times = 0;
	struct pb b = { 0 };

	clock_gettime(CLOCK_REALTIME, &now);
	unix_now = (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	ok(o.time_ns < unix_now - 1900000000ull && o.time_ns > unix_now - 2100000000ull,
	   "mt_unix_ns: a moment 2 s ago is 2 s before the Unix time now");
	pprof__encode(&fix_snapshot, &o, &b);
	n = fields(b.data, b.len, f, 1024);
	for (i = 0; i < n; i++)
		if (f[i].num == 9)
			times++, got = f[i].v;
	ok(times == 1 && got == o.time_ns, "time_nanos is the time given");
	pb__free(&b);
	pprof__encode(&fix_snapshot, NULL, &b);
	n = fields(b.data, b.len, f, 1024);
	for (i = 0, times = 0; i < n; i++)
		times += f[i].num == 9;
	ok(times == 0, "and absent when none is given");
	pb__free(&b);
}

/* --leak-check: two more sample types, lost_objects and lost_space (definitely + indirectly). */
static void test_lost(void)
{
	static const struct mt_mapping map = { 0x1000, 0x2000, 0, "/x", NULL };
	static const struct mt_frame fr[] = { { .addr = 0x1234, .module_offset = 0x234, .function = "f", .file = "f.c", .line = 3, .mapping = &map } };
	struct mt_stack st = { 1, MT_KIND_HEAP, 700, 4, 700, 4, 0, 1, fr, 0 };
	struct mt_proc proc = { .pid = 7, .comm = "a", .nstacks = 1, .stacks = &st };
	struct mt_snapshot s = { .nprocs = 1, .procs = &proc };
	static struct field f[64];
	const struct field *sample = NULL;
	size_t n, types = 0;
	struct pb b = { 0 };

	st.leak[MT_LEAK_DEFINITE] = (struct mt_leak_tally){ 100, 1 };
	st.leak[MT_LEAK_INDIRECT] = (struct mt_leak_tally){ 200, 2 };
	st.leak[MT_LEAK_REACHABLE] = (struct mt_leak_tally){ 400, 1 };
	proc.leak.asked = proc.leak.done = true;
	pprof__encode(&s, NULL, &b);
	n = fields(b.data, b.len, f, 64);
	for (size_t i = 0; i < n; i++) {
		types += f[i].num == 1;
		sample = f[i].num == 2 ? &f[i] : sample;
	}
	is_u64(types, 6, "six sample types after a leak check");
	ok(sample != NULL, "one sample");
	if (sample) {
		is_u64(value_of(sample, 2, 4, true), 3, "lost_objects: definitely and indirectly lost blocks");
		is_u64(value_of(sample, 2, 5, true), 300, "lost_space: their bytes");
	}
	pb__free(&b);
}

/* The string of a function's field (2: name, 3: system_name) among the profile's functions. */
static const char *function_str(const struct field *f, size_t n, const char **strings, size_t nstr,
				uint64_t id, uint32_t num)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].num == 5 && value_of(&f[i], 1, 0, false) == id) {
			uint64_t s = value_of(&f[i], num, 0, false);

			return s < nstr ? strings[s] : NULL;
		}
	return NULL;
}

/*
 * An address where inner() was inlined into outer(): one Location with two Lines, innermost
 * first, as profile.proto says; names demangled, system names as the object spells them.
 */
static void test_inlined(void)
{
	static const struct mt_mapping map = { 0x1000, 0x2000, 0, "/x", NULL };
	static const struct mt_frame fr[] = {
		{ .addr = 0x1234, .module_offset = 0x234, .function = "ns::inner(int)", .file = "h.h",
		  .line = 5, .mapping = &map, .mangled = "_ZN2ns5innerEi", .inlined = true },
		{ .addr = 0x1234, .module_offset = 0x234, .function = "outer", .file = "o.c", .line = 9,
		  .mapping = &map },
		{ .addr = 0x1400, .module_offset = 0x400, .function = "main", .file = "o.c", .line = 20,
		  .mapping = &map },
	};
	static const struct mt_stack st[] = { { 1, MT_KIND_HEAP, 16, 1, 48, 2, 0, 3, fr, 0 } };
	static const struct mt_proc procs[] = { { .pid = 7, .comm = "a", .nstacks = 1, .stacks = st } };
	static const struct mt_snapshot s = { .nprocs = 1, .procs = procs };
	static struct field f[256];
	const char *strings[64];
	const struct field *loc = NULL, *sample = NULL;
	struct field lf[16];
	size_t n, i, nlf, nlines = 0, nlocs = 0, nstr = 0;
	uint64_t fn[2] = { 0 }, line[2] = { 0 };
	struct pb b = { 0 };

	pprof__encode(&s, NULL, &b);
	n = fields(b.data, b.len, f, 256);
	for (i = 0; i < n; i++) {
		if (f[i].num == 6 && nstr < 64)
			strings[nstr++] = strndup((const char *)f[i].p, f[i].v);
		if (f[i].num == 2)
			sample = &f[i];
		if (f[i].num == 4 && nlocs++ == 0)
			loc = &f[i];
	}
	is_u64(nlocs, 2, "three frames at two addresses: two locations");
	nlf = sample ? fields(sample->p, sample->v, lf, 16) : 0;
	ok(nlf && lf[0].num == 1 && lf[0].v == 2 && value_of(sample, 1, 0, true) == 1 &&
	   value_of(sample, 1, 1, true) == 2, "the sample lists the two (packed, 2 bytes), leaf first");
	nlf = loc ? fields(loc->p, loc->v, lf, 16) : 0;
	for (i = 0; i < nlf; i++)
		if (lf[i].num == 4 && nlines < 2) {
			fn[nlines] = value_of(&lf[i], 1, 0, false);
			line[nlines++] = value_of(&lf[i], 2, 0, false);
		}
	is_u64(nlines, 2, "the inlined address is one location with two lines");
	is_u64(value_of(loc, 3, 0, false), 0x1234, "at the address");
	is_str(function_str(f, n, strings, nstr, fn[0], 2), "ns::inner(int)",
	       "first line: the inlined function, demangled");
	is_u64(line[0], 5, "at its own line");
	is_str(function_str(f, n, strings, nstr, fn[0], 3), "_ZN2ns5innerEi",
	       "its system_name is the mangled name");
	is_str(function_str(f, n, strings, nstr, fn[1], 2), "outer", "second line: the function it is in");
	is_u64(line[1], 9, "at the line of the call");
	is_str(function_str(f, n, strings, nstr, fn[1], 3), "outer", "a C name is its own system_name");
	for (i = 0; i < nstr; i++)
		free((char *)strings[i]);
	pb__free(&b);
}

int main(void)
{
	test_tiny_exact();
	test_lost();
	test_inlined();
	test_fixture_structure();
	test_file_is_gzip();
	test_time();
	return done_testing();
}
