/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_PREEMPT_H
#define _ASM_LKL_PREEMPT_H

/*
 * The generic preempt count, with one difference: a pending interrupt is
 * a reason to reschedule.
 *
 * On hardware an interrupt arrives whenever interrupts are enabled; here
 * it runs only when the CPU's owner enables interrupts again or gives the
 * CPU back (see kernel/irq.c).  Code that waits for another task by
 * looping over cond_resched() -- shrink_dcache_parent() waiting for a
 * dentry that another task is killing, for one -- does neither: the tick
 * that would set need_resched, or the disk interrupt that would wake the
 * other task, stays pending and the loop never ends.  Saying "reschedule"
 * sends cond_resched() into __schedule(), whose unlock of the run queue
 * enables interrupts and so runs them.
 */
#define should_resched lkl_generic_should_resched
#include <asm-generic/preempt.h>
#undef should_resched

extern int lkl_irqs_pending;

static __always_inline bool should_resched(int preempt_offset)
{
	return unlikely(preempt_count() == preempt_offset &&
			(tif_need_resched() || READ_ONCE(lkl_irqs_pending)));
}

#endif
