# SPDX-License-Identifier: BSD-2-Clause
"""A reader of pprof profiles (profile.proto, gzip-compressed) just big enough for the tests:
python3 pprof.py PROFILE prints each location that has lines, one line per location:
'ADDRESS name [system_name] line; ...', its lines innermost first. Tests that need more load this
file as a module and call read()."""
import gzip
import sys


def _varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def _fields(b):
    """(field number, value) of one message: ints for varints, bytes for the length-delimited."""
    i, out = 0, []
    while i < len(b):
        tag, i = _varint(b, i)
        if tag & 7 == 0:
            v, i = _varint(b, i)
        elif tag & 7 == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError("wire type %d not used by memtrace" % (tag & 7))
        out.append((tag >> 3, v))
    return out


def _packed(v):
    if isinstance(v, int):
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def read(path):
    """{'strings', 'functions': {id: (name, system_name, file)},
    'locations': {id: (address, [(function id, line)...])}, 'samples': [([location ids], [values])]}"""
    msg = _fields(gzip.open(path).read())
    strings = [v.decode() for n, v in msg if n == 6]
    functions, locations, samples = {}, {}, []
    for n, v in msg:
        if n == 5:
            f = dict(_fields(v))
            functions[f.get(1, 0)] = (strings[f.get(2, 0)], strings[f.get(3, 0)], strings[f.get(4, 0)])
        elif n == 4:
            f = _fields(v)
            d = dict(f)
            lines = [(dict(_fields(x)).get(1, 0), dict(_fields(x)).get(2, 0)) for k, x in f if k == 4]
            locations[d.get(1, 0)] = (d.get(3, 0), lines)
        elif n == 2:
            f = _fields(v)
            samples.append(([x for k, y in f if k == 1 for x in _packed(y)],
                            [x for k, y in f if k == 2 for x in _packed(y)]))
    return {"strings": strings, "functions": functions, "locations": locations, "samples": samples}


if __name__ == "__main__":
    p = read(sys.argv[1])
    for lid in sorted(p["locations"]):
        addr, lines = p["locations"][lid]
        if lines:
            print("0x%x %s" % (addr, "; ".join(
                "%s [%s] %d" % (p["functions"][f][0], p["functions"][f][1], ln) for f, ln in lines)))
