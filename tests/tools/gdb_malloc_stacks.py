# SPDX-License-Identifier: BSD-2-Clause
# An independent unwinder for tests/integration/unwind_groundtruth.sh: gdb stops at every
# MT_EVERY-th call of malloc and writes the stack (return addresses, innermost first, as gdb's
# own DWARF unwinder finds them) to MT_OUT, one line per sample, up to MT_SAMPLES lines. A line
# ends with "end" when gdb's walk ended by itself, "cut" when it went astray (a pc outside every
# executable mapping of the process): then only the frames before are a reference.
# Each return address is written as OBJECT:0xVADDR, its object's path and ELF virtual address
# (memtrace's module and module_offset): objects mapped after the first probe hit sit lower
# under memtrace, below the kernel's [uprobes] page, so raw addresses would differ.
# Usage: MT_OUT=f MT_EVERY=37 MT_SAMPLES=40 gdb -q -batch -x gdb_malloc_stacks.py --args PROG ARG...
import os
import struct

import gdb

every = int(os.environ.get("MT_EVERY", "37"))
limit = int(os.environ.get("MT_SAMPLES", "40"))
out = open(os.environ["MT_OUT"], "w")


class EveryNth(gdb.Breakpoint):
    def __init__(self):
        super().__init__("malloc", internal=True)
        self.hits = 0

    def stop(self):
        # "malloc" also names the dynamic loader's internal allocator; memtrace probes libc's
        frame = gdb.newest_frame()
        if "libc.so" not in (gdb.solib_name(frame.pc()) or ""):
            return False
        # With libc's debug info installed, "malloc" also resolves to every place it was
        # inlined: only a stop at the entry of the function itself is a call memtrace sees.
        where = gdb.execute("info symbol $pc", to_string=True)
        if " + " in where:
            return False
        self.hits += 1
        return self.hits % every == 0


def first_load_vaddr(path, cache={}):
    """p_vaddr of the PT_LOAD that maps file offset 0 (ELF64 little-endian)."""
    if path not in cache:
        with open(path, "rb") as f:
            hdr = f.read(64)
            phoff, = struct.unpack_from("<Q", hdr, 32)
            phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
        cache[path] = min(struct.unpack_from("<Q", table, i * phentsize + 16)[0]
                          for i in range(phnum)
                          if struct.unpack_from("<I", table, i * phentsize)[0] == 1)
    return cache[path]


def code_ranges():
    """(lo, hi, path, load bias) of each executable file mapping."""
    ranges, base = [], {}
    with open("/proc/%d/maps" % gdb.selected_inferior().pid) as maps:
        for line in maps:
            f = line.split()
            if len(f) < 6 or not f[5].startswith("/"):
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if int(f[2], 16) == 0:
                base.setdefault(f[5], lo)
            if "x" in f[1]:
                ranges.append((lo, hi, f[5]))
    return [(lo, hi, path, base.get(path, 0) - (first_load_vaddr(path) & ~0xfff))
            for lo, hi, path in ranges]


def stack():
    code = code_ranges()
    pcs = []
    f = gdb.newest_frame()
    while f is not None and f.type() == gdb.INLINE_FRAME:  # code inlined at malloc's entry
        f = f.older()
    f = f.older() if f is not None else None  # that frame is malloc itself; its caller first
    while f is not None and len(pcs) < 200:
        where = [(path, bias) for lo, hi, path, bias in code if lo <= f.pc() < hi]
        if not where:
            return pcs + ["cut"]
        if f.type() != gdb.INLINE_FRAME:  # gdb shows inlined calls as frames at the same pc
            pcs.append("%s:0x%x" % (where[0][0], f.pc() - where[0][1]))
        f = f.older()
    return pcs + ["end"]


gdb.execute("set pagination off")
gdb.execute("set backtrace past-main on")
gdb.execute("set breakpoint pending on")
bp = EveryNth()
gdb.execute("run", to_string=True)
samples = 0
while samples < limit and gdb.selected_inferior().pid:
    out.write(" ".join(stack()) + "\n")
    samples += 1
    try:
        gdb.execute("continue", to_string=True)
    except gdb.error:
        break
out.close()
if gdb.selected_inferior().pid:
    gdb.execute("kill")
