# SPDX-License-Identifier: BSD-2-Clause
# An independent unwinder for tests/integration/unwind_groundtruth.sh: gdb stops at every
# MT_EVERY-th call of malloc and writes the stack (return addresses, innermost first, as gdb's
# own DWARF unwinder finds them) to MT_OUT, one line per sample, up to MT_SAMPLES lines. A line
# ends with "end" when gdb's walk ended by itself, "cut" when it went astray (a pc outside every
# executable mapping of the process): then only the frames before are a reference.
# Usage: MT_OUT=f MT_EVERY=37 MT_SAMPLES=40 gdb -q -batch -x gdb_malloc_stacks.py --args PROG ARG...
import os

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


def code_ranges():
    ranges = []
    with open("/proc/%d/maps" % gdb.selected_inferior().pid) as maps:
        for line in maps:
            f = line.split()
            if len(f) >= 6 and "x" in f[1] and f[5].startswith("/"):
                lo, hi = f[0].split("-")
                ranges.append((int(lo, 16), int(hi, 16)))
    return ranges


def stack():
    code = code_ranges()
    pcs = []
    f = gdb.newest_frame()
    while f is not None and f.type() == gdb.INLINE_FRAME:  # code inlined at malloc's entry
        f = f.older()
    f = f.older() if f is not None else None  # that frame is malloc itself; its caller first
    while f is not None and len(pcs) < 200:
        if not any(lo <= f.pc() < hi for lo, hi in code):
            return pcs + ["cut"]
        if f.type() != gdb.INLINE_FRAME:  # gdb shows inlined calls as frames at the same pc
            pcs.append("0x%x" % f.pc())
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
