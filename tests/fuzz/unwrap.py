# SPDX-License-Identifier: BSD-2-Clause
"""A recording's blocks decompressed, in fuzz_recording's raw shape: 0x00, then per block
u16 length + raw record bytes (each block under 32 KiB: the length's top bit is the harness's).
Usage: unwrap.py IN.mtr OUT   (needs the zstd command)"""
import struct
import subprocess
import sys

data = open(sys.argv[1], "rb").read()
out = bytearray(b"\0")
at = 16
while at + 12 <= len(data):
    zlen, raw_len, _ = struct.unpack_from("<III", data, at)
    raw = subprocess.run(["zstd", "-dqc"], input=data[at + 12:at + 12 + zlen],
                         stdout=subprocess.PIPE, check=True).stdout
    if len(raw) >= 0x8000:
        sys.exit("unwrap.py: a block of %d bytes: the seed takes blocks under 32 KiB" % len(raw))
    out += struct.pack("<H", len(raw)) + raw
    at += 12 + zlen
open(sys.argv[2], "wb").write(out)
