# SPDX-License-Identifier: BSD-2-Clause
# memtrace: `make` builds, `make test` runs every test, `make bench` measures overhead.
.DELETE_ON_ERROR:
.SUFFIXES:

OUT       ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PREFIX    ?= /usr/local
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS    ?= -g -O2
WARN      := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS  := -D_GNU_SOURCE -Ibpf -Iuser -I$(OUT) -MMD -MP
LDLIBS    := -lbpf -lelf -ldw -lz -lncursesw
BPF_FLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUT) -Ibpf -Wall -Werror

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

USER_SRC   := $(sort $(wildcard user/*.c))
USER_OBJ   := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRC))
LIB_OBJ    := $(filter-out $(OUT)/user/main.o,$(USER_OBJ))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))
TOOLS      := $(patsubst tests/tools/%.c,$(OUT)/tools/%,$(sort $(wildcard tests/tools/*.c)))
WORKLOADS  := $(patsubst tests/workloads/%.c,$(OUT)/workloads/%,$(sort $(wildcard tests/workloads/*.c))) \
	      $(patsubst tests/workloads/%.cc,$(OUT)/workloads/%,$(sort $(wildcard tests/workloads/*.cc)))
CXX       ?= g++
SKEL       := $(OUT)/memtrace.skel.h

all: $(OUT)/memtrace $(UNIT_BIN) $(TOOLS) $(WORKLOADS)

$(OUT)/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r /sys/kernel/btf/vmlinux || { echo "memtrace: /sys/kernel/btf/vmlinux missing -- a kernel with CONFIG_DEBUG_INFO_BTF=y is needed" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_FLAGS) -MMD -MP -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# Every user object may include the skeleton; generating it first keeps -MMD honest.
$(OUT)/user/%.o: user/%.c | $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS) -c $< -o $@

$(OUT)/memtrace: $(USER_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/%: tests/unit/%.c $(LIB_OBJ)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS) -Itests/unit $^ $(LDLIBS) -o $@

# Test helpers: small programs linked like unit tests that integration tests drive.
$(OUT)/tools/%: tests/tools/%.c $(LIB_OBJ)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS) -Itests/unit $^ $(LDLIBS) -o $@

# The flame graph page is kept as plain HTML and compiled in as a C string.
$(OUT)/flamegraph_html.h: user/flamegraph.html
	$(call msg,GEN,$@)
	$(Q)sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $< > $@

$(OUT)/user/flamegraph.o: $(OUT)/flamegraph_html.h

# Workloads are built the way the programs users trace usually are: with frame pointers and -O1.
$(OUT)/workloads/%: tests/workloads/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O1 -fno-omit-frame-pointer -fno-inline -pthread $(WARN) -Wno-unused-result $< -o $@

$(OUT)/workloads/%: tests/workloads/%.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -g -O1 -fno-omit-frame-pointer -fno-inline -pthread $(WARN) $< -o $@

test: all
	$(Q)tests/run

bench: all
	$(Q)scripts/bench

install: $(OUT)/memtrace
	install -D -m 0755 $(OUT)/memtrace $(DESTDIR)$(PREFIX)/bin/memtrace

format:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*.h

clean:
	rm -rf $(OUT)

.PHONY: all test bench install format clean
-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
