/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_PTRACE_H
#define _ASM_LKL_PTRACE_H

#include <uapi/asm/ptrace.h>

#ifndef __ASSEMBLY__

/* Nothing ever traps from user mode, so there are no registers to save. */
struct pt_regs {
	unsigned long unused;
};

#define user_mode(regs)			(0)
#define kernel_mode(regs)		(1)
#define instruction_pointer(regs)	(0)
#define user_stack_pointer(regs)	(0)
#define profile_pc(regs)		instruction_pointer(regs)
#define current_pt_regs()		((struct pt_regs *)NULL)
#define arch_has_single_step()		(0)

#endif /* __ASSEMBLY__ */

#endif
