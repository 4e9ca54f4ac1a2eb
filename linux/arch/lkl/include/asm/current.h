/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_CURRENT_H
#define _ASM_LKL_CURRENT_H

#ifndef __ASSEMBLY__

struct task_struct;

/*
 * There is one CPU and host threads do not share a stack layout, so the
 * running task is simply remembered here and updated by __switch_to().
 */
extern struct task_struct *lkl_current_task;

static __always_inline struct task_struct *get_current(void)
{
	return lkl_current_task;
}

#define current get_current()

#endif /* __ASSEMBLY__ */

#endif
