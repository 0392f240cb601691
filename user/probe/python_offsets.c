// SPDX-License-Identifier: BSD-2-Clause
/*
 * CPython's private layouts, one row per minor version. Each number is offsetof() of the named
 * field, computed by compiling against that version's own headers with Py_BUILD_CORE
 * (Include/internal/pycore_runtime.h, pycore_frame.h, cpython/pystate.h, cpython/code.h,
 * cpython/unicodeobject.h, cpython/bytesobject.h) on x86_64 in a default (GIL, non-debug) build:
 *   3.11: Debian's libpython3.11-dev 3.11.2-6 headers, and v3.11.7 (pyenv): identical;
 *   3.12: v3.12.1 (pyenv);   3.13: v3.13.0 (pyenv).
 * tests/integration/python_versions.sh walks a live interpreter of each version with them.
 * 3.13 also publishes most of these in _Py_DebugOffsets at the start of _PyRuntime; python.c
 * checks this row against them, so a build that moved a field is refused rather than misread.
 */
#include <stddef.h>

#include "python.h"
#include "probe/python_offsets.h"

static const struct py_offsets table[] = {
	{
		.major = 3, .minor = 11,
		.source = "CPython v3.11.2/v3.11.7 headers",
		.runtime_tss_key = 592,		/* _PyRuntimeState.gilstate.autoTSSkey */
		.runtime_gil_holder = 576,	/* _PyRuntimeState.gilstate.tstate_current */
		.tstate_thread_id = 152,
		.tstate_frame = 56,		/* PyThreadState.cframe */
		.cframe_frame = 8,		/* _PyCFrame.current_frame */
		.frame_code = 32,		/* _PyInterpreterFrame.f_code */
		.frame_previous = 48,
		.frame_instr = 56,		/* prev_instr */
		.frame_owner = 69,
		.frame_is_entry = 68,
		.ob_type = 8,
		.code_filename = 112, .code_qualname = 128, .code_firstlineno = 72,
		.code_linetable = 136, .code_adaptive = 184,
		.bytes_size = 16, .bytes_data = 32,
		.str_state = 32, .str_length = 16, .str_ascii_data = 48, .str_compact_data = 72,
	},
	{
		.major = 3, .minor = 12,
		.source = "CPython v3.12.1 headers",
		.runtime_tss_key = 1544,	/* _PyRuntimeState.autoTSSkey */
		.runtime_gil_holder = MT_PY_NONE,
		.tstate_thread_id = MT_PY_NONE,
		.tstate_frame = 56,		/* PyThreadState.cframe */
		.cframe_frame = 0,		/* _PyCFrame.current_frame */
		.frame_code = 0,		/* _PyInterpreterFrame.f_code */
		.frame_previous = 8,
		.frame_instr = 56,		/* prev_instr */
		.frame_owner = 70,
		.frame_is_entry = MT_PY_NONE,
		.ob_type = 8,
		.code_filename = 112, .code_qualname = 128, .code_firstlineno = 68,
		.code_linetable = 136, .code_adaptive = 192,
		.bytes_size = 16, .bytes_data = 32,
		.str_state = 32, .str_length = 16, .str_ascii_data = 40, .str_compact_data = 56,
	},
	{
		.major = 3, .minor = 13,
		.source = "CPython v3.13.0 headers, checked against _Py_DebugOffsets",
		.runtime_tss_key = 2160,	/* _PyRuntimeState.autoTSSkey */
		.runtime_gil_holder = MT_PY_NONE,
		.tstate_thread_id = MT_PY_NONE,
		.tstate_frame = 72,		/* PyThreadState.current_frame */
		.cframe_frame = MT_PY_NONE,
		.frame_code = 0,		/* _PyInterpreterFrame.f_executable */
		.frame_previous = 8,
		.frame_instr = 56,		/* instr_ptr */
		.frame_owner = 70,
		.frame_is_entry = MT_PY_NONE,
		.ob_type = 8,
		.code_filename = 112, .code_qualname = 128, .code_firstlineno = 68,
		.code_linetable = 136, .code_adaptive = 200,
		.bytes_size = 16, .bytes_data = 32,
		.str_state = 32, .str_length = 16, .str_ascii_data = 40, .str_compact_data = 56,
	},
};

const struct py_offsets *py_offsets__find(int major, int minor)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].major == major && table[i].minor == minor)
			return &table[i];
	return NULL;
}

const char *py_offsets__supported(void) { return "3.11, 3.12, 3.13"; }
