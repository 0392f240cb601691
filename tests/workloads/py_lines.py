# SPDX-License-Identifier: BSD-2-Clause
# Known Python lines holding known memory, for tests/integration/python_*.sh (stdlib only).
# Usage: py_lines.py OUT.json [--go FILE] [--no-tracemalloc] [--small N] [--big N]
# Every allocating line ends in a tag (hash, space, L, colon, name); OUT.json maps each tag to its line number and
# to tracemalloc's own view of that line at the end. Ends with os._exit so nothing is freed.
import ctypes
import json
import os
import re
import sys
import threading
import tracemalloc

out_path = sys.argv[1]
go = sys.argv[sys.argv.index("--go") + 1] if "--go" in sys.argv else None
use_tm = "--no-tracemalloc" not in sys.argv
n_small = int(sys.argv[sys.argv.index("--small") + 1]) if "--small" in sys.argv else 20_000
n_big = int(sys.argv[sys.argv.index("--big") + 1]) if "--big" in sys.argv else 20
keep = []
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]


def blobs():
    return [bytearray(1_000_000) for _ in range(50)]  # L:blobs


def grow_dict(n):
    table = {}
    for i in range(n):
        table[i] = None  # L:dict
    return table


def worker(out):
    for _ in range(10):
        out.append(bytearray(2_000_000))  # L:thread


def released(done):
    for _ in range(5):
        libc.malloc(3_333_333)  # L:nogil
    done.set()


def small(n):
    out = [None] * n
    for i in range(n):
        out[i] = bytes(100)  # L:small
    return out


def big(n):
    return [bytearray(100_000) for _ in range(n)]  # L:big


def transient():
    t = [bytearray(1_000_000) for _ in range(30)]  # L:transient
    del t


def spin(done):
    n = 0
    while not done.is_set():
        n += 1  # L:spin
    return n


def main():
    if use_tm:
        tracemalloc.start()
    print("ready", flush=True)
    while go and not os.path.exists(go):
        threading.Event().wait(0.02)
    keep.append(blobs())
    keep.append(grow_dict(5_000))
    lists = [[] for _ in range(3)]
    threads = [threading.Thread(target=worker, args=(lists[i],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keep.append(lists)
    done = threading.Event()
    t = threading.Thread(target=released, args=(done,))
    t.start()
    spin(done)
    t.join()
    keep.append(small(n_small))
    keep.append(big(n_big))
    transient()
    report()


def tags():
    lines = {}
    with open(__file__) as f:
        for no, text in enumerate(f, 1):
            m = re.search(r"# L:(\w+)$", text)
            if m:
                lines[m.group(1)] = no
    return lines


def report():
    res = {"file": os.path.abspath(__file__), "lines": tags(), "tracemalloc": {}}
    if use_tm:
        # Stop tracing once the snapshot is taken: reading its traces builds Python objects, and
        # each one tracemalloc traces costs a malloc of its own (millions of traced mallocs, most
        # of a traced run's time). Stopping frees tracemalloc's own trace entries; the workload's
        # blocks stay held. One pass over the traces, by line of this file.
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        by_line = {}
        for t in snap.traces:
            frame = t.traceback[0]
            if frame.filename == __file__:
                by_line.setdefault(frame.lineno, []).append(t.size)
        for tag, no in res["lines"].items():
            sizes = by_line.get(no, [])
            res["tracemalloc"][tag] = {"all": sum(sizes), "large": sum(s for s in sizes if s > 512),
                                       "blocks": len(sizes)}
    with open(out_path, "w") as f:
        json.dump(res, f)
    sys.stdout.flush()
    os._exit(0)


main()
