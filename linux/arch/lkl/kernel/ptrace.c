// SPDX-License-Identifier: GPL-2.0
/* There is no user space, so nothing can be traced or single-stepped. */
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <asm/syscall.h>

long arch_ptrace(struct task_struct *child, long request, unsigned long addr,
		 unsigned long data)
{
	return -EINVAL;
}

void ptrace_disable(struct task_struct *child)
{
}

void user_disable_single_step(struct task_struct *child)
{
}

int syscall_get_arch(struct task_struct *task)
{
	return 0;
}
