// SPDX-License-Identifier: GPL-2.0
/*
 * Time comes from the host: a clocksource reading its monotonic clock, a
 * one-shot clockevent device backed by a host timer thread, and a wall
 * clock that starts at the host's, so new files get true timestamps.
 *
 * With lkl.epoch=<seconds> the wall clock is instead frozen at that
 * instant for the whole boot (timekeeping_freeze_realtime()): everything
 * written with a timestamp gets that one, so that an image built twice
 * from the same inputs is the same byte for byte.  Monotonic time keeps
 * running, and with it every timer.
 */
#include <linux/clocksource.h>
#include <linux/clockchips.h>
#include <linux/interrupt.h>
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/kstrtox.h>
#include <linux/sched/clock.h>
#include <linux/timekeeping.h>
#include <asm/host_ops.h>
#include <asm/irq.h>

#include "lkl.h"

static u64 boot_ns;
static struct lkl_timer *timer;
static bool epoch_given __ro_after_init;
static time64_t epoch __ro_after_init;

static int __init parse_epoch(char *arg)
{
	long long sec;
	int err;

	if (!arg)
		return -EINVAL;
	err = kstrtoll(arg, 10, &sec);
	if (err)
		return err;
	if (sec < 0)
		return -ERANGE;
	epoch = sec;
	epoch_given = true;
	return 0;
}
early_param("lkl.epoch", parse_epoch);

unsigned long long sched_clock(void)
{
	if (!lkl_ops)
		return 0;
	return lkl_ops->time_ns() - boot_ns;
}

void read_persistent_clock64(struct timespec64 *ts)
{
	if (epoch_given) {
		*ts = (struct timespec64){ .tv_sec = epoch };
		return;
	}
	*ts = ns_to_timespec64(lkl_ops->realtime_ns());
}

static u64 clock_read(struct clocksource *cs)
{
	return lkl_ops->time_ns();
}

static struct clocksource clocksource = {
	.name	= "lkl",
	.rating	= 499,
	.read	= clock_read,
	.flags	= CLOCK_SOURCE_IS_CONTINUOUS | CLOCK_SOURCE_VALID_FOR_HRES,
	.mask	= CLOCKSOURCE_MASK(64),
};

static int clockevent_next(unsigned long delta_ns, struct clock_event_device *evt)
{
	return lkl_ops->timer_set_oneshot(timer, delta_ns);
}

static int clockevent_shutdown(struct clock_event_device *evt)
{
	/*
	 * A stray expiry is harmless: the tick code checks what is due.
	 * Pushing the deadline far out stops the host thread waking us.
	 */
	return lkl_ops->timer_set_oneshot(timer, 3600ULL * NSEC_PER_SEC);
}

static struct clock_event_device clockevent = {
	.name			= "lkl",
	.features		= CLOCK_EVT_FEAT_ONESHOT,
	.set_next_event		= clockevent_next,
	.set_state_shutdown	= clockevent_shutdown,
	.set_state_oneshot_stopped = clockevent_shutdown,
	.rating			= 499,
	.cpumask		= cpu_possible_mask,
};

static irqreturn_t timer_irq(int irq, void *dev_id)
{
	clockevent.event_handler(&clockevent);
	return IRQ_HANDLED;
}

static void timer_fired(void *arg)
{
	lkl_irq_raise(LKL_TIMER_IRQ);
}

void __init time_init(void)
{
	int err;

	boot_ns = lkl_ops->time_ns();
	if (epoch_given)
		timekeeping_freeze_realtime(epoch);

	timer = lkl_ops->timer_alloc(timer_fired, NULL);
	if (!timer)
		panic("lkl: cannot allocate the host timer\n");

	err = request_irq(LKL_TIMER_IRQ, timer_irq, IRQF_TIMER, "timer", NULL);
	if (err)
		panic("lkl: cannot request the timer interrupt: %d\n", err);

	err = clocksource_register_hz(&clocksource, NSEC_PER_SEC);
	if (err)
		panic("lkl: cannot register the clocksource: %d\n", err);

	clockevents_config_and_register(&clockevent, NSEC_PER_SEC, 1000,
					ULONG_MAX);
}

void lkl_time_halt(void)
{
	lkl_ops->timer_free(timer);
	timer = NULL;
}

static void spin_ns(u64 ns)
{
	u64 end = lkl_ops->time_ns() + ns;

	while (lkl_ops->time_ns() < end)
		cpu_relax();
}

void __ndelay(unsigned long nsecs)
{
	spin_ns(nsecs);
}

void __udelay(unsigned long usecs)
{
	spin_ns((u64)usecs * NSEC_PER_USEC);
}

void __const_udelay(unsigned long xloops)
{
	/* xloops is usecs * 2**32 / 10**6, as the generic delay.h builds it */
	spin_ns(((u64)xloops * NSEC_PER_USEC * 1000000ULL) >> 32);
}

void __delay(unsigned long loops)
{
	spin_ns(loops);
}
