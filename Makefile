# SPDX-License-Identifier: BSD-2-Clause
# memtrace: `make` builds memtrace and the sampling library; `make tests` the unit tests, tools and
# workloads; `make check` runs what needs no root (include rules, unit and golden tests), `make
# check-root` the integration tests, `make test` every test; `make install`/`uninstall` (PREFIX,
# DESTDIR); `make format`, `make fuzz`, `make bench`, `make bench-scale`, `make vmtest`, `make
# clean`. V=1 shows commands.
.DELETE_ON_ERROR:
# Keep generated skeletons and BPF objects: deleting them as intermediates forces a relink each run.
.SECONDARY:
.SUFFIXES:

OUT       ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
AR        ?= ar
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
MANDIR    ?= $(PREFIX)/share/man
UNITDIR   ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS    ?= -g -O2
WARN      := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS  := -D_GNU_SOURCE -Ibpf -Iuser -I$(OUT) -MMD -MP
LDLIBS    := -lbpf -lelf -ldw -liberty -lz -lzstd -lncursesw -lpthread -lcapstone -lm
BPF_FLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(OUT) -Ibpf -Wall -Werror

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

USER_SRC   := $(sort $(wildcard user/*/*.c))
USER_OBJ   := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRC))
LIB_OBJ    := $(filter-out $(OUT)/user/cli/main.o,$(USER_OBJ))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))
TOOLS      := $(patsubst tests/tools/%.c,$(OUT)/tools/%,$(sort $(wildcard tests/tools/*.c)))
WORKLOADS  := $(patsubst tests/workloads/%.c,$(OUT)/workloads/%,$(sort $(filter-out %_lib.c,$(wildcard tests/workloads/*.c)))) \
	      $(patsubst tests/workloads/%.cc,$(OUT)/workloads/%,$(sort $(wildcard tests/workloads/*.cc))) \
	      $(OUT)/workloads/libreload_a.so $(OUT)/workloads/libreload_b.so
CXX       ?= g++
SKEL       := $(OUT)/memtrace.skel.h

SAMPLE_LIB := $(OUT)/libmemtrace-sample.so
LIB_A      := $(OUT)/libmemtrace.a

all: $(OUT)/memtrace.stack $(OUT)/memtrace $(SAMPLE_LIB)

tests: all $(UNIT_BIN) $(TOOLS) $(WORKLOADS)

$(OUT)/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r /sys/kernel/btf/vmlinux || { echo "memtrace: /sys/kernel/btf/vmlinux missing -- a kernel with CONFIG_DEBUG_INFO_BTF=y is needed" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_FLAGS) -MMD -MP -c $< -o $@

# Every program's deepest call chain within the stack budget, or nothing builds: some kernels give
# tracing programs a private stack and would hide an overrun that every other kernel refuses.
$(OUT)/tools/bpf_stack: tests/tools/bpf_stack.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) $< -lelf -o $@

$(OUT)/%.stack: $(OUT)/%.bpf.o $(OUT)/tools/bpf_stack
	$(call msg,STACK,$@)
	$(Q)$(OUT)/tools/bpf_stack $< > $@.tmp || { cat $@.tmp; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o | $(OUT)/%.stack
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# Every user object may include the skeleton; generating it first keeps -MMD honest.
$(OUT)/user/%.o: user/%.c | $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(HOT) $(WARN) $(CPPFLAGS) -c $< -o $@

# A replay's inner loop, event by event (decode, then aggregate): -O3 after CFLAGS' level there.
$(addprefix $(OUT)/user/,record/codec.o record/recording_read.o model/aggregate.o model/model.o \
	session/replay.o): HOT := -O3

$(OUT)/memtrace: $(USER_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Every user object but main(): tests, tools and the bench link it, and each takes only the objects
# it reaches (memtrace itself links the objects, all of them).
$(LIB_A): $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# The sampling library preloaded into programs (README: "Sampling mode"): libc only, no libm.
# Frame pointers: memtrace starts a sampled stack at the caller of the wrapper's frame. Sibling
# calls off, so no wrapper leaves its frame before the hook that is handed it.
SAMPLE_SRC   := $(sort $(wildcard sample/*.c)) sample/hooks.S
SAMPLE_FLAGS := -O2 -g -fPIC -fno-plt -fno-omit-frame-pointer -fno-optimize-sibling-calls \
		-ftls-model=initial-exec -fvisibility=hidden -D_GNU_SOURCE
$(SAMPLE_LIB): $(SAMPLE_SRC) $(wildcard sample/*.h)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAMPLE_FLAGS) $(WARN) -shared -Wl,-Bsymbolic-functions -Wl,-z,now \
		$(SAMPLE_SRC) -o $@

# Fixtures spell snapshot structs positionally: fields appended to them since are zero, as meant.
TEST_WARN  := $(WARN) -Wno-missing-field-initializers

# A unit test or tool links the archive and only the libraries of the objects it takes from it:
# none for a pure module. When a link fails here, the module under test (or one it reaches) has
# grown a dependency: take it out, or name the library below if it belongs.
TEST_LIBS :=
$(OUT)/tests/test_aggregate $(OUT)/tests/test_resident $(OUT)/tests/test_leakcheck: TEST_LIBS := -lm
$(OUT)/tests/test_pprof $(OUT)/tools/export_fixture: TEST_LIBS := -lz
$(OUT)/tools/make_recording $(OUT)/tools/rec_strip_symbols: TEST_LIBS := -lz -lzstd
$(OUT)/tests/test_probesite: TEST_LIBS := -lcapstone -lelf
# The symbolizer: libdw, libiberty's demangler, zlib's crc32 for debuglinks (debuginfod's client is
# opened with dlopen when a fetch starts).
SYM_LIBS := -ldw -lelf -liberty -lz
$(OUT)/tests/test_symbols: TEST_LIBS := $(SYM_LIBS)
$(OUT)/tests/test_unwind_table: TEST_LIBS := -ldw -lelf
$(OUT)/tests/test_ldso: TEST_LIBS := -lelf
$(OUT)/tools/pygc_find: TEST_LIBS := -lcapstone -ldw -lelf
# Replaying a recording reaches symbolize/pytrace.o and probe/pyproc.o, which call BPF maps.
$(OUT)/tests/test_recording: TEST_LIBS := -lbpf $(SYM_LIBS) -lzstd -lm
$(OUT)/tests/test_pydetect: TEST_LIBS := -lbpf $(SYM_LIBS) -lzstd -lm

$(OUT)/tests/%: tests/unit/%.c $(LIB_A)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(TEST_WARN) $(CPPFLAGS) -Itests/unit $< $(LIB_A) $(TEST_LIBS) -o $@

# Test helpers: small programs linked like unit tests that integration tests drive.
$(OUT)/tools/%: tests/tools/%.c $(LIB_A)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(TEST_WARN) $(CPPFLAGS) -Itests/unit $< $(LIB_A) $(TEST_LIBS) -o $@

# HTML pages are kept as plain HTML and compiled in as C strings.
HTML_H     := $(OUT)/flamegraph_html.h $(OUT)/timeline_html.h
$(HTML_H): $(OUT)/%_html.h: user/present/%.html
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $< > $@

$(OUT)/user/present/flamegraph.o: $(OUT)/flamegraph_html.h
# Where `make install` puts the sampling library: memtrace looks there when none is beside it.
# The directory is kept in a file rewritten only when it changes, so that `make install` with
# another PREFIX rebuilds the memtrace it installs.
$(OUT)/user/probe/sampler.o: CPPFLAGS += -DMT_LIBDIR='"$(LIBDIR)/memtrace"'
$(OUT)/user/probe/sampler.o: $(OUT)/libdir
$(OUT)/libdir: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(LIBDIR)/memtrace' | cmp -s - $@ || echo '$(LIBDIR)/memtrace' > $@
$(OUT)/user/present/timeline.o: $(OUT)/timeline_html.h

# Workloads are built the way the programs users trace usually are: with frame pointers and -O1.
# nofp_* workloads are built as distributions build: optimized, no frame pointers, CFI only.
$(OUT)/workloads/nofp_%: tests/workloads/nofp_%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O2 -fomit-frame-pointer -pthread $(WARN) -Wno-unused-result $< -o $@

# inline_* workloads are built optimized, so that static inline helpers of their headers are
# inlined: the frames of those calls come from DWARF (frames_inline.sh).
$(OUT)/workloads/inline_%: tests/workloads/inline_%.c tests/workloads/inline_%.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O2 -fno-omit-frame-pointer $(WARN) $< -o $@

# One library built twice: the same code at the same offsets, different stack frames (nofp_reload).
$(OUT)/workloads/libreload_a.so: FRAME := 512
$(OUT)/workloads/libreload_b.so: FRAME := 4096
$(OUT)/workloads/libreload_%.so: tests/workloads/reload_lib.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O2 -fomit-frame-pointer -shared -fPIC -DFRAME=$(FRAME) $(WARN) $< -o $@

$(OUT)/workloads/%: tests/workloads/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O1 -fno-omit-frame-pointer -fno-inline -pthread $(WARN) -Wno-unused-result $< -o $@

$(OUT)/workloads/%: tests/workloads/%.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -g -O1 -fno-omit-frame-pointer -fno-inline -pthread $(WARN) $< -o $@

# The test tiers (tests/run): include rules, unit tests and golden reports need neither root nor
# BPF (some unit tests read the workloads' binaries); the integration tests load BPF, as root.
# `make test` runs them all, as scripts/test does.
check: tests
	$(Q)tests/run lint/ unit/ golden/

check-root: tests
	$(Q)tests/run integration/

test: tests
	$(Q)tests/run

# Fuzzing, apart from `make test`: user objects rebuilt with clang, libFuzzer, ASan and UBSan.
# `make fuzz` runs FUZZ_TARGET for FUZZ_SECONDS; crashes land in $(OUT)/fuzz/artifacts/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 180
FUZZ_TARGET  ?= fuzz_recording
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ     := $(patsubst user/%.c,$(OUT)/fuzz/obj/%.o,$(filter-out user/cli/main.c,$(USER_SRC)))

$(OUT)/fuzz/obj/%.o: user/%.c | $(SKEL)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(WARN) $(CPPFLAGS) -c $< -o $@

$(OUT)/fuzz/obj/present/flamegraph.o: $(OUT)/flamegraph_html.h

$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	$(call msg,LINK-FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(WARN) $(CPPFLAGS) $(filter %.c %.o,$^) $(LDLIBS) -o $@

fuzz: $(OUT)/fuzz/$(FUZZ_TARGET) $(OUT)/tools/make_recording
	$(Q)mkdir -p $(OUT)/fuzz/corpus-$(FUZZ_TARGET) $(OUT)/fuzz/artifacts
	$(Q)$(OUT)/tools/make_recording $(OUT)/fuzz/corpus-$(FUZZ_TARGET)/seed.mtr
	$(Q)python3 tests/fuzz/unwrap.py $(OUT)/fuzz/corpus-$(FUZZ_TARGET)/seed.mtr $(OUT)/fuzz/corpus-$(FUZZ_TARGET)/seed.raw
	$(Q)$(OUT)/fuzz/$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=2 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix=$(OUT)/fuzz/artifacts/ $(OUT)/fuzz/corpus-$(FUZZ_TARGET)


# The bench's probe floor: empty BPF programs on memtrace's attach table (built by `make bench`).
$(OUT)/bench/%.bpf.o: bench/%.bpf.c $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_FLAGS) -MMD -MP -c $< -o $@

$(OUT)/bench/%.skel.h: $(OUT)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(OUT)/bench/floor: bench/floor.c $(LIB_A) | $(OUT)/bench/probe_floor.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS) -I$(OUT)/bench $< $(LIB_A) $(LDLIBS) -o $@

$(OUT)/bench/libstopwatch.so: bench/stopwatch.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -shared -fPIC $< -o $@


bench: tests $(OUT)/bench/floor $(OUT)/bench/libstopwatch.so
	$(Q)scripts/bench $(BENCH_ARGS)

# How costs grow with the work, beside heaptrack: x1, x10, x100 (bench/RESULTS.md; ~15 min).
bench-scale: tests
	$(Q)scripts/bench-scale $(BENCH_SCALE_ARGS)

# The kernel matrix: the tests in Debian's 6.1 and 6.12 kernels under qemu (scripts/vmtest --help),
# e.g. make vmtest VMTEST_ARGS='--kernel 6.12 core_leaky'.
vmtest: tests
	$(Q)scripts/vmtest $(VMTEST_ARGS)

# make install [PREFIX=/usr/local] [DESTDIR=staging root]: memtrace, its sampling library where
# memtrace looks for it (built in: LIBDIR at build time), the man page, and the service
# (dist/memtrace.service, not enabled: `systemctl enable --now memtrace`) with its state
# directory's cleanup rule.
INSTALLED := $(DESTDIR)$(BINDIR)/memtrace $(DESTDIR)$(LIBDIR)/memtrace/libmemtrace-sample.so \
	     $(DESTDIR)$(MANDIR)/man8/memtrace.8 $(DESTDIR)$(UNITDIR)/memtrace.service \
	     $(DESTDIR)$(TMPFILESDIR)/memtrace.conf
install: docs/memtrace.8 $(OUT)/memtrace $(SAMPLE_LIB) dist/memtrace.service dist/memtrace.tmpfiles
	$(call msg,INSTALL,$(DESTDIR)$(BINDIR)/memtrace)
	$(Q)install -D -m 0755 $(OUT)/memtrace $(DESTDIR)$(BINDIR)/memtrace
	$(call msg,INSTALL,$(DESTDIR)$(LIBDIR)/memtrace/libmemtrace-sample.so)
	$(Q)install -D -m 0644 $(SAMPLE_LIB) $(DESTDIR)$(LIBDIR)/memtrace/libmemtrace-sample.so
	$(call msg,INSTALL,$(DESTDIR)$(MANDIR)/man8/memtrace.8)
	$(Q)install -D -m 0644 docs/memtrace.8 $(DESTDIR)$(MANDIR)/man8/memtrace.8
	$(call msg,INSTALL,$(DESTDIR)$(UNITDIR)/memtrace.service)
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|@BINDIR@|$(BINDIR)|g' dist/memtrace.service >$(DESTDIR)$(UNITDIR)/memtrace.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/memtrace.service
	$(Q)install -D -m 0644 dist/memtrace.tmpfiles $(DESTDIR)$(TMPFILESDIR)/memtrace.conf

uninstall:
	$(call msg,RM,$(DESTDIR)$(BINDIR)/memtrace and its library and man page and service)
	$(Q)rm -f $(INSTALLED)
	$(Q)! [ -d $(DESTDIR)$(LIBDIR)/memtrace ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$(LIBDIR)/memtrace

# The man page is written by hand, not built: without it there is nothing to install.
docs/memtrace.8:
	@echo "memtrace: docs/memtrace.8 is missing: the man page is written by hand, not built -- check it out (git checkout docs/memtrace.8)" >&2
	@exit 1

# Formats the sources by .clang-format (not run by any other target).
FORMAT_SRC := $(wildcard bpf/*.c bpf/*.h user/*/*.c user/*/*.h sample/*.c sample/*.h)
format:
	$(Q)command -v clang-format >/dev/null || { echo "memtrace: clang-format not found -- apt-get install clang-format" >&2; exit 1; }
	$(Q)clang-format -i $(FORMAT_SRC)

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT)

FORCE:

.PHONY: all tests check check-root test fuzz bench bench-scale vmtest install uninstall format clean FORCE
-include $(shell find $(OUT) -path $(OUT)/vm -prune -o -name '*.d' -print 2>/dev/null)
