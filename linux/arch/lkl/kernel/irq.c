// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts are raised by host threads (lkl_irq_raise() in cpu.c) and
 * handled here by whichever host thread owns the CPU, when interrupts are
 * enabled.
 */
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/hardirq.h>
#include <linux/bitops.h>
#include <asm/irq_regs.h>
#include <asm/host_ops.h>
#include <asm/cpu.h>

static DECLARE_BITMAP(irqs_used, NR_IRQS);

void lkl_run_pending_irqs(void)
{
	struct pt_regs regs = { 0 }, *old_regs;
	unsigned long flags, bits;
	int irq;

	/* A handler that enables interrupts must not recurse into us. */
	if (in_hardirq())
		return;

	flags = lkl_irq_flags;
	lkl_irq_flags = ARCH_IRQ_DISABLED;
	/*
	 * There are no interrupted registers, but the tick handler only
	 * runs the timer wheel and the scheduler tick when get_irq_regs()
	 * says it is in interrupt context.
	 */
	old_regs = set_irq_regs(&regs);
	while ((bits = lkl_cpu_take_pending())) {
		for_each_set_bit(irq, &bits, BITS_PER_LONG) {
			irq_enter();
			generic_handle_irq(irq);
			irq_exit();
		}
	}
	set_irq_regs(old_regs);
	lkl_irq_flags = flags;
}

int lkl_irq_alloc(void)
{
	int irq;

	irq = find_next_zero_bit(irqs_used, NR_IRQS, LKL_TIMER_IRQ + 1);
	if (irq >= NR_IRQS || irq >= BITS_PER_LONG)
		return -ENOSPC;
	set_bit(irq, irqs_used);
	return irq;
}

void lkl_irq_free(int irq)
{
	clear_bit(irq, irqs_used);
}

void __init init_IRQ(void)
{
	int i;

	for (i = 0; i < NR_IRQS; i++)
		irq_set_chip_and_handler(i, &dummy_irq_chip, handle_simple_irq);
	set_bit(0, irqs_used);
	set_bit(LKL_TIMER_IRQ, irqs_used);
}

int arch_show_interrupts(struct seq_file *p, int prec)
{
	return 0;
}
