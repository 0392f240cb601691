# SPDX-License-Identifier: BSD-2-Clause
# A Python line run early, 50 ms after the interpreter starts and before memtrace's 100 ms poll:
# it allocates 3,000,000 bytes (bytearray mallocs one more, for its NUL). tests/integration/
# python_lines.sh checks that the block is at this line.
import time

time.sleep(0.05)
early = bytearray(3_000_000)  # L:early
time.sleep(0.1)
