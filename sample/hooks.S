/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hooks memtrace probes (hooks.h). The first instruction is the 5-byte nop the kernel can
 * replace by a call to its uprobe trampoline, avoiding the int3 trap (~1.4 us instead of ~5 us).
 * The CFI says what is true at each instruction (the CFA is rsp + 8 throughout: nothing is pushed),
 * so a DWARF unwinder steps through a hook like any leaf function.
 */
	.text

	.globl	memtrace_sample_alloc
	.type	memtrace_sample_alloc, @function
	.p2align 4
memtrace_sample_alloc:
	.cfi_startproc
	.byte	0x0f, 0x1f, 0x44, 0x00, 0x00	/* nopl 0x0(%rax,%rax,1) */
	ret
	.cfi_endproc
	.size	memtrace_sample_alloc, .-memtrace_sample_alloc

	.globl	memtrace_sample_free
	.type	memtrace_sample_free, @function
	.p2align 4
memtrace_sample_free:
	.cfi_startproc
	.byte	0x0f, 0x1f, 0x44, 0x00, 0x00	/* nopl 0x0(%rax,%rax,1) */
	ret
	.cfi_endproc
	.size	memtrace_sample_free, .-memtrace_sample_free

	.section .note.GNU-stack, "", @progbits
