/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_PROCESSOR_H
#define _ASM_LKL_PROCESSOR_H

#ifndef __ASSEMBLY__

#include <linux/types.h>
#include <linux/compiler.h>
#include <asm/host_ops.h>

/**
 * struct thread_struct - what the port keeps for each task
 * @sched_sem: the task's host thread waits here while it is not running
 * @tid: its host thread (kernel threads only)
 * @fn/@arg: what a new kernel thread runs
 * @host_task: the task stands for a host thread that makes system calls,
 *	and has no host thread of its own
 * @detach: the task is being switched out by a host thread that is not
 *	its own; __switch_to() jumps back to @jb instead of waiting
 * @exiting: the kernel is halting: the host thread must end when woken
 * @in_call: a host task between lkl_enter() and lkl_leave(): its host
 *	thread is inside a call, which a halt must end first
 * @spare: on the list of host tasks whose host threads have ended, to be
 *	given to the next new host thread
 */
struct thread_struct {
	struct lkl_sem *sched_sem;
	lkl_thread_t tid;
	int (*fn)(void *arg);
	void *arg;
	bool host_task;
	bool detach;
	bool exiting;
	bool in_call;
	struct lkl_jmp_buf jb;
	struct list_head spare;
};

#define INIT_THREAD { }

/* Any host address may be handed to a system call. */
#define TASK_SIZE		(~0UL)
#define TASK_UNMAPPED_BASE	0
#define STACK_TOP		TASK_SIZE
#define STACK_TOP_MAX		TASK_SIZE

#define task_pt_regs(tsk)	((struct pt_regs *)NULL)
#define KSTK_EIP(tsk)		(0)
#define KSTK_ESP(tsk)		(0)

static inline void cpu_relax(void)
{
	barrier();
}

unsigned long __get_wchan(struct task_struct *p);

#endif /* __ASSEMBLY__ */

#endif
