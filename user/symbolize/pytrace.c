// SPDX-License-Identifier: BSD-2-Clause
/*
 * Python stacks in a trace. The probes append the thread's Python frames (code object address,
 * instruction index) after its native ones; here each code address becomes an identity memtrace
 * owns (pycode.c), and the two stacks are merged: every native _PyEval_EvalFrameDefault frame
 * gives its place to the Python frames it was running, down to the one a C call entered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "lib/htab.h"
#include "symbolize/pycode.h"
#include "probe/pyproc.h"
#include "symbolize/pytrace.h"
#include "lib/util.h"

#define EPOCH_NS 100000000ull	/* a code address is re-checked for reuse at most this often */

/* A process's part (PROC_PYTHON in the registry): the interpreter found in it, or none. */
struct pyslot {
	struct pyproc proc;
	struct mt_py_info info;
};

struct pytrace {
	enum mt_py_frames mode;
	int map_fd;
	volatile bool *python_on;
	struct glibc_tsd tsd;
	bool have_tsd;
	struct procs *procs;
	struct pycodes codes;
	struct mt_event out;
};

static void drop_part(void *owner, struct proc *proc);

static const char *const mode_names[] = { [MT_PY_MIXED] = "mixed", [MT_PY_ONLY] = "only",
					  [MT_PY_OFF] = "off" };

int mt_py_frames_parse(const char *s, enum mt_py_frames *out)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, mode_names[i])) {
			*out = i;
			return 0;
		}
	mt_err("give only, mixed or off", "invalid value '%s' for --python-frames", s);
	return -EINVAL;
}

struct pytrace *pytrace__new(enum mt_py_frames mode, int map_fd, volatile bool *python_on,
			     struct procs *procs)
{
	struct pytrace *py = xcalloc(1, sizeof(*py));
	int err = glibc_tsd__probe(&py->tsd);

	py->mode = mode;
	py->map_fd = map_fd;
	py->python_on = python_on;
	py->have_tsd = !err;
	if (err)
		mt_debug("glibc thread-specific data layout not found: %s", strerror(-err));
	else
		mt_debug("glibc thread-specific data at +%u, +%u", py->tsd.first, py->tsd.second);
	py->procs = procs;
	procs__own(procs, PROC_PYTHON, drop_part, py);
	return py;
}

/* The registry's processes are given back first (procs__free). */
void pytrace__free(struct pytrace *py)
{
	if (!py)
		return;
	pycodes__release(&py->codes);
	free(py);
}

/* The registry forgets the process, or an exec ends its program: the BPF walk must not read
 * the old interpreter's layout. */
static void drop_part(void *owner, struct proc *proc)
{
	struct pytrace *py = owner;
	struct pyslot *s = proc->part[PROC_PYTHON];
	uint32_t key = proc->pid;

	if (s->proc.state == PYPROC_ON)
		bpf_map_delete_elem(py->map_fd, &key);
	pyproc__release(&s->proc);
	free((char *)s->info.coverage);
	free(s);
}

static const char *coverage(const struct pyproc *p, bool *complete)
{
	*complete = p->pythonmalloc && (!strcmp(p->pythonmalloc, "malloc") ||
					!strcmp(p->pythonmalloc, "malloc_debug"));
	if (*complete)
		return xasprintf("PYTHONMALLOC=%s: every object allocation goes through malloc and is seen",
				 p->pythonmalloc);
	return xstrdup("pymalloc: objects over 512 bytes are seen one by one (malloc); smaller ones "
		       "only as the arenas pymalloc maps for them (mmap) -- start Python with "
		       "PYTHONMALLOC=malloc to see every object");
}

static struct pyslot *slot_of(struct pytrace *py, uint32_t pid, bool detect)
{
	struct proc *proc = detect ? procs__get(py->procs, pid) : procs__find(py->procs, pid);
	struct pyslot *s = proc ? proc->part[PROC_PYTHON] : NULL;

	if (s || !detect)
		return s;
	s = xcalloc(1, sizeof(*s));
	pyproc__detect(&s->proc, pid, py->have_tsd ? &py->tsd : NULL, py->map_fd);
	if (s->proc.state == PYPROC_ON && py->python_on)
		*py->python_on = true;
	if (s->proc.state != PYPROC_NONE) {
		s->info.version = s->proc.version;
		s->info.path = s->proc.path;
		s->info.why = s->proc.why;
		s->info.frames = s->proc.state == PYPROC_ON ? mode_names[py->mode] : "unavailable";
		s->info.coverage = coverage(&s->proc, &s->info.complete);
	}
	proc->part[PROC_PYTHON] = s;
	return s;
}

void pytrace__attach(struct pytrace *py, int pid)
{
	if (py)
		slot_of(py, pid, true);
}

void pytrace__forget(struct pytrace *py, int pid)
{
	struct proc *proc = py ? procs__find(py->procs, pid) : NULL;

	if (proc)
		procs__drop_part(py->procs, proc, PROC_PYTHON);
}

uint32_t pytrace__nnative(const struct mt_event *e)
{
	uint32_t n = 0;

	while (n < e->nframes && !mt_py_is_frame(e->frames[n]))
		n++;
	return n;
}

static bool in_eval(const struct pyproc *p, uint64_t addr)
{
	return addr >= p->eval_lo && addr < p->eval_hi;
}

/*
 * Mixed: each native eval-loop frame is replaced by the Python frames it ran, innermost first,
 * through the one a C call entered; Python frames left over (the native unwind stopped short,
 * as it does in interpreters built without frame pointers) go after the native ones.
 */
static uint32_t merge(const struct pyproc *p, const uint64_t *nat, uint32_t n, const uint64_t *pyf,
		      uint32_t m, uint64_t *out)
{
	uint32_t k = 0, j = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (!in_eval(p, nat[i]) || j == m) {
			out[k++] = nat[i];
			continue;
		}
		while (j < m) {
			uint64_t f = pyf[j++];

			out[k++] = f;
			if (f & MT_PY_ENTRY)
				break;
		}
	}
	while (j < m)
		out[k++] = pyf[j++];
	return k;
}

/*
 * Did a probe on the program's allocator send e? By then the dynamic loader has mapped every
 * library the program needs (libc, a shared libpython). A page fault can come before that, while
 * the loader maps them: a process looked at then has no CPython yet, and would keep that verdict.
 */
static bool from_allocator(const struct mt_event *e)
{
	return (e->op >= MT_OP_MALLOC && e->op <= MT_OP_MREMAP) || e->op == MT_OP_SAMPLED_ALLOC ||
	       e->op == MT_OP_GC_FREE || e->op == MT_OP_GC;
}

const struct mt_event *pytrace__event(struct pytrace *py, const struct mt_event *e)
{
	struct pyslot *s = py ? slot_of(py, e->pid, from_allocator(e)) : NULL;
	uint32_t n = pytrace__nnative(e), m = e->nframes - n;
	uint64_t epoch = mt_now_ns() / EPOCH_NS, pyf[MT_MAX_FRAMES];

	if (!m || !s || s->proc.state != PYPROC_ON)
		return e;
	for (uint32_t j = 0; j < m; j++) {
		uint64_t f = e->frames[n + j];
		uint32_t id = pycode__identify(&py->codes, &s->proc, (f & MT_PY_CODE_MASK) << 3, epoch);

		pyf[j] = (f & ~MT_PY_CODE_MASK) | id;
	}
	memcpy(&py->out, e, MT_EVENT_HDR_SIZE);
	switch (py->mode) {
	case MT_PY_MIXED:
		py->out.nframes = merge(&s->proc, (const uint64_t *)e->frames, n, pyf, m,
				       (uint64_t *)py->out.frames);
		break;
	case MT_PY_ONLY:
		memcpy(py->out.frames, pyf, m * sizeof(*pyf));
		py->out.nframes = m;
		break;
	case MT_PY_OFF:
		memcpy(py->out.frames, e->frames, n * sizeof(*pyf));
		py->out.nframes = n;
		break;
	}
	return &py->out;
}

void pytrace__resolve(const struct pytrace *py, uint64_t addr, struct mt_frame *out)
{
	uint64_t id = addr & MT_PY_CODE_MASK;
	uint32_t instr = (addr >> MT_PY_INSTR_SHIFT) & MT_PY_INSTR_MAX;
	const struct pycode *code = id < py->codes.n ? &py->codes.v[id] : NULL;
	int line = code ? pycode__line(code, instr) : -1;

	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->module_offset = (uint64_t)instr * 2;	/* the bytecode offset, as f_lasti * 2 */
	out->function = code && code->qualname ? code->qualname : "<unknown code>";
	out->file = code ? code->filename : "<unknown>";
	out->line = line > 0 ? line : 0;
}

bool pytrace__looked(const struct pytrace *py, uint32_t pid)
{
	return !py || slot_of((struct pytrace *)py, pid, false);
}

const struct mt_py_info *pytrace__info(const struct pytrace *py, uint32_t pid)
{
	struct pyslot *s = slot_of((struct pytrace *)py, pid, false);

	return s && s->proc.state != PYPROC_NONE ? &s->info : NULL;
}
