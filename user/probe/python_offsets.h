/* SPDX-License-Identifier: BSD-2-Clause */
/* Where CPython keeps what memtrace reads, per interpreter version: the one table of offsets. */
#ifndef MT_PYTHON_OFFSETS_H
#define MT_PYTHON_OFFSETS_H

#include <stdint.h>

struct py_offsets {
	int major, minor;
	const char *source;		/* where the numbers come from */
	uint16_t runtime_tss_key;	/* _PyRuntimeState: autoTSSkey (a Py_tss_t) */
	uint16_t runtime_gil_holder;	/* _PyRuntimeState: the GIL holder's thread state; MT_PY_NONE from
					 * 3.12, where each thread keeps its own in thread-local storage */
	uint16_t tstate_thread_id;	/* PyThreadState.thread_id (pthread_self() of its thread), where
					 * runtime_gil_holder is known */
	uint16_t tstate_frame;		/* PyThreadState: cframe, or current_frame from 3.13 */
	uint16_t cframe_frame;		/* _PyCFrame.current_frame; MT_PY_NONE from 3.13 */
	uint16_t frame_code, frame_previous, frame_instr, frame_owner;
	uint16_t frame_is_entry;	/* MT_PY_NONE from 3.12: entries are marked by shim frames */
	uint16_t ob_type;		/* PyObject.ob_type */
	uint16_t code_filename, code_qualname, code_firstlineno, code_linetable, code_adaptive;
	uint16_t bytes_size, bytes_data; /* PyBytesObject: ob_size, ob_sval */
	uint16_t str_state;		/* PyASCIIObject.state: the kind/compact/ascii bits */
	uint16_t str_length;		/* PyASCIIObject.length, in code points */
	uint16_t str_ascii_data;	/* sizeof(PyASCIIObject): a compact ASCII string's characters */
	uint16_t str_compact_data;	/* sizeof(PyCompactUnicodeObject): other compact strings */
};

/* The layout of CPython major.minor, or NULL when memtrace does not know it. */
const struct py_offsets *py_offsets__find(int major, int minor);

/* "3.11, 3.12, 3.13": the versions the table knows, for messages. */
const char *py_offsets__supported(void);

#endif
