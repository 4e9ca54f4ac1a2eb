/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_IRQFLAGS_H
#define _ASM_LKL_IRQFLAGS_H

/*
 * Nothing can preempt host code, so "disabling interrupts" only sets a
 * flag.  Interrupts raised by host threads while it is clear are kept
 * pending and run when it is set again (see kernel/irq.c).
 */
#define ARCH_IRQ_DISABLED	0
#define ARCH_IRQ_ENABLED	1

#ifndef __ASSEMBLY__

extern unsigned long lkl_irq_flags;
extern int lkl_irqs_pending;
void lkl_run_pending_irqs(void);

static inline unsigned long arch_local_save_flags(void)
{
	return lkl_irq_flags;
}

static inline void arch_local_irq_restore(unsigned long flags)
{
	if (flags == ARCH_IRQ_ENABLED && READ_ONCE(lkl_irqs_pending))
		lkl_run_pending_irqs();
	lkl_irq_flags = flags;
}

#include <asm-generic/irqflags.h>

#endif /* __ASSEMBLY__ */

#endif
