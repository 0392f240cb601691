# SPDX-License-Identifier: BSD-2-Clause
# docs/python.md's worked example: trees whose children point back at their parents (reference
# cycles, freed only by the cycle collector); --weakref breaks the cycles. Usage: py_tree.py [--weakref]
import gc, sys, weakref

FIX = "--weakref" in sys.argv


class Node:
    def __init__(self, parent):
        self.parent = weakref.ref(parent) if FIX and parent else parent
        self.children = []
        self.buf = bytearray(2048)


def build(depth, parent=None):
    node = Node(parent)
    if depth:
        node.children = [build(depth - 1, node) for _ in range(2)]
    return node


for _ in range(200):
    tree = build(6)  # 127 nodes, each child pointing back at its parent
    del tree
gc.collect()
