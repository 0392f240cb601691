// SPDX-License-Identifier: BSD-2-Clause
/*
 * ELF symbol offsets (what uprobes attach to) and symbolization, on this very binary: a call
 * inlined into its caller (always_inline: whatever CFLAGS say), and functions whose ELF symbols
 * carry C++ and Rust mangled names (asm labels: no Rust toolchain needed).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/elfsym.h"
#include "lib/json.h"
#include "lib/procmaps.h"
#include "symbolize/demangle.h"
#include "symbolize/symbolize.h"
#include "tap.h"

__attribute__((noinline)) void *known_function(void)
{
	return __builtin_return_address(0);
}

void *volatile sink;

/* The line of known_function()'s call in inlined_helper(), and of inlined_helper()'s. */
enum { HELPER_LINE = __LINE__ + 3, CALLER_LINE = __LINE__ + 8 };
static inline __attribute__((always_inline)) void *inlined_helper(void)
{
	return known_function();
}

__attribute__((noinline)) void *calls_inlined(void)
{
	void *r = inlined_helper();

	sink = r;	/* after the call: no tail call */
	return r;
}

/* Functions named as rustc (v0, legacy) and g++ would name them. */
void *rust_v0(void) __asm__("_RNvCs1234_7mycrate9rust_leak");
void *rust_legacy(void) __asm__("_ZN7mycrate11legacy_leak17h0123456789abcdefE");
void *cxx_fn(void) __asm__("_ZN2ns7cxx_fooEi");
#define CALLS_KNOWN(fn)					\
	__attribute__((noinline)) void *fn(void)		\
	{						\
		void *r = known_function();		\
							\
		sink = r;				\
		return r;				\
	}
CALLS_KNOWN(rust_v0)
CALLS_KNOWN(rust_legacy)
CALLS_KNOWN(cxx_fn)

/* An inlined call: two frames at one address, each named after the function its line is in. */
static void inlined(struct symbolizer *s)
{
	uint64_t ret = (uint64_t)(uintptr_t)calls_inlined();
	struct mt_frame f[4];
	uint32_t n = sym__resolve(s, getpid(), ret, f, 4);

	is_u64(n, 2, "a return address in inlined code is two frames");
	is_str(f[0].function, "inlined_helper", "the inlined function first");
	ok(f[0].inlined && f[0].line == HELPER_LINE && f[0].file && strstr(f[0].file, "test_symbols.c"),
	   "marked inlined, at the line of its call to known_function (%d)", f[0].line);
	is_str(f[1].function, "calls_inlined", "then the function it was inlined into");
	ok(!f[1].inlined && f[1].line == CALLER_LINE, "at the line where it called inlined_helper (%d)",
	   f[1].line);
	ok(f[0].addr == ret && f[1].addr == ret && f[0].module_offset == f[1].module_offset &&
	   f[0].mapping == f[1].mapping, "both at the address, in its mapping");
	is_u64(sym__resolve(s, getpid(), ret, f, 1), 2, "room for one: says two, writes one");
	is_str(f[0].function, "inlined_helper", "the innermost");
}

/* Mangled ELF symbol names, demangled; --no-demangle (mt_demangle) shows them as spelled. */
static void mangled(struct symbolizer *s)
{
	static const struct { void *(*fn)(void); const char *name, *raw; } want[] = {
		{ rust_v0, "mycrate::rust_leak", "_RNvCs1234_7mycrate9rust_leak" },
		{ rust_legacy, "mycrate::legacy_leak", "_ZN7mycrate11legacy_leak17h0123456789abcdefE" },
		{ cxx_fn, "ns::cxx_foo(int)", "_ZN2ns7cxx_fooEi" },
	};
	struct mt_frame f;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t ret = (uint64_t)(uintptr_t)want[i].fn();

		sym__resolve(s, getpid(), ret, &f, 1);
		is_str(f.function, want[i].name, "%s demangled", want[i].raw);
		is_str(f.mangled, want[i].raw, "its mangled name beside");
		mt_demangle = false;
		sym__resolve(s, getpid(), ret, &f, 1);
		ok(f.function && !strcmp(f.function, want[i].raw) && !f.mangled,
		   "--no-demangle: %s as spelled", want[i].raw);
		mt_demangle = true;
	}
	sym__resolve(s, getpid(), (uint64_t)(uintptr_t)known_function(), &f, 1);
	ok(f.function && !strcmp(f.function, "main") && !f.mangled, "a C name has no mangled name");
}

/* The demangler itself: C++ of every kind the reports meet, both Rust manglings, and C. */
static void demangler(void)
{
	static const char *const cases[][2] = {
		{ "_Z14leak_new_arrayv", "leak_new_array()" },
		{ "_ZN5store17leak_in_namespaceEv", "store::leak_in_namespace()" },
		{ "_ZN4PoolI3BigLi2EE4fillEv", "Pool<Big, 2>::fill()" },
		{ "_ZZ11leak_lambdavENKUliE_clEi", "leak_lambda()::{lambda(int)#1}::operator()(int) const" },
		{ "_ZN3BagpLEi", "Bag::operator+=(int)" },
		{ "_Znam", "operator new[](unsigned long)" },
		{ "_Z3foov.cold", "foo() [clone .cold]" },
		{ "_ZN4core3ptr13drop_in_place17h0123456789abcdefE", "core::ptr::drop_in_place" },
		{ "_RNvMs_NtCs1234_7mycrate3modNtB4_6Holder3new", "<mycrate::mod::Holder>::new" },
		{ "_RINvCs1234_7mycrate7genericlE", "mycrate::generic::<i32>" },
	};
	static const char *const plain[] = { "main", "leak_malloc", "_Zbogus", "_R", "_", "" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = demangle(cases[i][0]);

		is_str(d, cases[i][1], "demangle %s", cases[i][0]);
		free(d);
	}
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *d = demangle(plain[i]);

		ok(!d, "'%s' is not mangled: no demangled name", plain[i]);
		free(d);
	}
	ok(!demangle(NULL), "NULL: none");
}

/* One code mapping as MT_OP_EXIT_MAP brings it: pm's file with the given inode, at start. */
static struct procmaps one_map(const struct pmap *pm, uint64_t start, uint64_t inode)
{
	struct procmaps x = { calloc(1, sizeof(struct pmap)), 1 };

	x.maps[0] = *pm;
	x.maps[0].start = start;
	x.maps[0].end = start + (pm->end - pm->start);
	x.maps[0].inode = inode;
	x.maps[0].path = strdup(pm->path);
	return x;
}

/*
 * Whole machine: a process gone before its /proc/PID/maps was read is symbolized from the code
 * mappings it sent as it exited; a path that is not the mapped inode any more names the object
 * only; and mappings /proc's list lacked are added to it, the ones it had left alone.
 */
static void exit_maps(struct symbolizer *s, uint64_t ret)
{
	const int gone = 999999999, replaced = 999999998;	/* above pid_max: never a process */
	struct procmaps m, x;
	const struct pmap *pm;
	struct mt_frame f;

	if (procmaps__read(getpid(), &m) || !(pm = procmaps__find(&m, ret)))
		return (void)ok(0, "the return address lies in a mapping of this process");
	x = one_map(pm, pm->start, pm->inode);
	sym__load_exit_maps(s, gone, &x);
	ok(!x.maps && !x.n, "the exit mappings are taken");
	sym__resolve(s, gone, ret, &f, 1);
	is_str(f.function, "main", "a process gone before its maps were read: resolved from its exit mappings");
	x = one_map(pm, pm->start, pm->inode + 1);
	sym__load_exit_maps(s, replaced, &x);
	sym__resolve(s, replaced, ret, &f, 1);
	ok(!f.function && f.mapping && !strcmp(f.mapping->path, pm->path),
	   "a path that is no longer the mapped inode: the object named, its symbols not used");
	/* 64 KiB: below mmap_min_addr, so this process has nothing there. */
	x = one_map(pm, 0x10000, pm->inode);
	sym__load_exit_maps(s, getpid(), &x);
	sym__resolve(s, getpid(), 0x10000 + (ret - pm->start), &f, 1);
	is_str(f.function, "main", "a mapping /proc's list lacked is added to it");
	sym__resolve(s, getpid(), ret, &f, 1);
	is_str(f.function, "main", "the mappings it had still resolve");
	procmaps__release(&m);
}

int main(void)
{
	static const char *const names[] = { "known_function", "main", "no_such_symbol" };
	uint64_t offs[3];
	struct procmaps m;
	const struct pmap *pm;
	uint64_t addr = (uint64_t)(uintptr_t)known_function;
	int n = elfsym__offsets("/proc/self/exe", names, 3, offs);

	is_u64(n, 2, "two of three names found");
	ok(offs[2] == 0, "absent symbol has offset 0");
	ok(procmaps__read(getpid(), &m) == 0, "reads own maps");
	pm = procmaps__find(&m, addr);
	ok(pm && strstr(pm->path, "test_symbols"), "the function lies in this executable's mapping");
	/* Where the kernel maps the function is where the ELF symbol's file offset says. */
	if (pm)
		is_u64(addr - pm->start + pm->offset, offs[0], "symbol file offset matches the mapped address");
	procmaps__release(&m);
	ok(!elfsym__is_static("/proc/self/exe"), "this test is dynamically linked");
	ok(elfsym__offsets("/etc/hostname", names, 1, offs) < 0, "a non-ELF file is an error");

	struct procs *procs = procs__new();
	struct symbolizer *s = sym__new(procs);
	struct mt_frame f;
	uint64_t ret = (uint64_t)(uintptr_t)known_function();	/* a return address inside main */

	ok(sym__refresh(s, getpid()) == 0, "symbolizer reads this process");
	sym__resolve(s, getpid(), ret, &f, 1);
	is_str(f.function, "main", "a return address resolves to its caller");
	ok(f.file && strstr(f.file, "test_symbols.c"), "with its source file (%s)", f.file ? f.file : "null");
	ok(f.line > 0, "and a line (%d)", f.line);
	ok(f.mapping && f.mapping->build_id && strlen(f.mapping->build_id) == 40, "build id read");
	sym__resolve(s, getpid(), 0x10, &f, 1);
	ok(!f.function && !f.mapping, "an unmapped address resolves to nothing, without crashing");
	inlined(s);
	mangled(s);
	exit_maps(s, ret);
	procs__free(procs);
	sym__free(s);
	demangler();

	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	json__quote(mem, "a\"b\\c\n\x01");
	fclose(mem);
	is_str(buf, "\"a\\\"b\\\\c\\n\\u0001\"", "JSON strings are escaped");
	free(buf);

	/* Valid UTF-8 passes through; each invalid byte (stray continuation, overlong, surrogate,
	 * beyond U+10FFFF, cut short) becomes U+FFFD, so any JSON reader accepts the document. */
	mem = open_memstream(&buf, &len);
	json__quote(mem, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\x80|\xc0\xaf|\xed\xa0\x80|\xf5\x80\x80\x80|\xe2\x82");
	fclose(mem);
	is_str(buf, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\ufffd|\\ufffd\\ufffd|"
		    "\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"",
	       "invalid UTF-8 is replaced byte by byte, valid UTF-8 kept");
	free(buf);
	return done_testing();
}
