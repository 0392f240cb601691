# SPDX-License-Identifier: BSD-2-Clause
# Copies a CPython 3.11+ executable with its Py_Version constant changed, so that memtrace sees
# an interpreter of another version (the interpreter itself runs as before: sys.version is
# compiled in separately). Usage: patch_pyversion.py SRC DST HEXVERSION
import shutil
import struct
import sys

src, dst, hexversion = sys.argv[1], sys.argv[2], int(sys.argv[3], 16)
data = bytearray(open(src, "rb").read())
shoff, = struct.unpack_from("<Q", data, 0x28)
shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
value = None
for name, typ, flags, addr, off, size, link, info, align, entsize in sections:
    if typ != 11:	# SHT_DYNSYM
        continue
    strtab = sections[link]
    for i in range(size // entsize):
        st_name, st_info, st_other, st_shndx, st_value, st_size = struct.unpack_from("<IBBHQQ", data, off + i * entsize)
        end = data.index(b"\0", strtab[4] + st_name)
        if data[strtab[4] + st_name:end] == b"Py_Version":
            value = st_value
if value is None:
    sys.exit("no Py_Version in " + src)
for i in range(phnum):
    typ, flags, off, vaddr, paddr, filesz, memsz, align = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
    if typ == 1 and vaddr <= value < vaddr + filesz:
        struct.pack_into("<I", data, value - vaddr + off, hexversion)
        break
else:
    sys.exit("Py_Version not in a loaded segment")
open(dst, "wb").write(data)
shutil.copymode(src, dst)
