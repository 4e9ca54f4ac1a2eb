/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_IRQ_H
#define _ASM_LKL_IRQ_H

#define NR_IRQS			CONFIG_LKL_NR_IRQS
#define LKL_TIMER_IRQ		1

#ifndef __ASSEMBLY__
int lkl_irq_alloc(void);
void lkl_irq_free(int irq);
void lkl_irq_raise(int irq);
#endif

#endif
