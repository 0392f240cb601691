# SPDX-License-Identifier: BSD-2-Clause
"""A recording's blocks inflated, in fuzz_recording's raw shape: 0x00, then per block
u16 length + raw record bytes. Usage: unwrap.py IN.mtr OUT"""
import struct
import sys
import zlib

data = open(sys.argv[1], "rb").read()
out = bytearray(b"\0")
at = 16
while at + 12 <= len(data):
    zlen, raw_len, _ = struct.unpack_from("<III", data, at)
    raw = zlib.decompress(data[at + 12:at + 12 + zlen])
    out += struct.pack("<H", len(raw)) + raw
    at += 12 + zlen
open(sys.argv[2], "wb").write(out)
