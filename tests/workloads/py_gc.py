# SPDX-License-Identifier: BSD-2-Clause
# Python's own memory questions with known answers, for tests/integration/python_gc.sh (stdlib only).
# Usage: py_gc.py OUT.json cycles|plain|slots [N] [--go FILE]
#   cycles: N reference cycles (two objects that point at each other), each holding a payload,
#           built with the collector disabled, then freed by one gc.collect(); a second line
#           holds memory without any cycle.
#   plain, slots: N instances of one class, without or with __slots__, made at one line.
# With --go, waits for FILE to exist first (so memtrace -p can attach). OUT.json maps each tag to
# its line, and says what CPython itself reports: the payload's malloc size, the collector's
# statistics, the instance's size. Ends with os._exit, so nothing else is freed.
import gc
import json
import os
import sys
import time

gc.disable()  # before anything else: only the collections this workload asks for, after startup's
out_path, mode = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 1000
go = sys.argv[sys.argv.index("--go") + 1] if "--go" in sys.argv else None
PAYLOAD = 4096


class Pair:
    pass


class Plain:
    def __init__(self):
        self.a = self.b = self.c = self.d = None


class Slotted:
    __slots__ = ("a", "b", "c", "d")

    def __init__(self):
        self.a = self.b = self.c = self.d = None


def cycles(k):
    for _ in range(k):
        a, b = Pair(), Pair()
        a.peer, b.peer = b, a
        a.payload = bytearray(PAYLOAD)  # L:payload


def acyclic(k):
    return [bytearray(PAYLOAD) for _ in range(k)]  # L:acyclic


def instances(cls, k):
    objs = [None] * k
    for i in range(k):
        objs[i] = cls()  # L:objects
    return objs


def collections():
    return sum(s["collections"] for s in gc.get_stats())


def main():
    if go:
        print(os.getpid(), flush=True)
        while not os.path.exists(go):
            time.sleep(0.01)
    out = {"mode": mode, "n": n, "version": sys.version.split()[0],
           "collections_at_start": collections()}
    keep = []
    if mode == "cycles":
        keep.append(acyclic(n // 10))
        cycles(n)
        t0 = time.perf_counter()
        out["collected_objects"] = gc.collect()
        out["collect_wall_ns"] = int((time.perf_counter() - t0) * 1e9)
        # bytearray(k) asks its allocator for k + 1 bytes (a NUL after the data): the payload's
        # malloc size is what getsizeof adds to an empty bytearray's.
        out["payload_malloc"] = sys.getsizeof(bytearray(PAYLOAD)) - sys.getsizeof(bytearray())
    else:
        keep.append(instances(Slotted if mode == "slots" else Plain, n))
        out["instance_size"] = sys.getsizeof(keep[0][0])
    out["collections_at_end"] = collections()
    src = open(__file__).read().splitlines()
    out["lines"] = {l.split("# L:")[1]: i + 1 for i, l in enumerate(src) if "# L:" in l and "split" not in l}
    with open(out_path, "w") as f:
        json.dump(out, f)
    sys.stdout.flush()
    os._exit(0)


main()
