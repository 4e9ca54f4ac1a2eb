// SPDX-License-Identifier: GPL-2.0
/*
 * The one virtual CPU.
 *
 * Exactly one host thread runs kernel code at a time: it "owns" the CPU.
 * Kernel threads hand the CPU to each other in __switch_to().  Host
 * threads that are not kernel threads (system call callers, timer and
 * disk threads raising interrupts) take it with lkl_cpu_get() when it is
 * free and give it back with lkl_cpu_put().
 *
 * The CPU is free only in two situations: the idle task is asleep in
 * lkl_cpu_idle(), or a host task (the task of a system-call caller) was
 * left current when its call returned, because nothing else wanted to
 * run.  lkl_cpu_put() keeps it that way: before it frees the CPU it runs
 * the pending interrupts and, if some task became runnable, it hands the
 * CPU on to the scheduler instead.
 */
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/stat.h>
#include <linux/interrupt.h>
#include <linux/cpu.h>
#include <asm/host_ops.h>
#include <asm/cpu.h>

static struct {
	struct lkl_mutex *lock;
	bool busy;
	bool gone;		/* the kernel has halted: never free again */
	int sleepers;
	struct lkl_sem *wait_sem;
	struct lkl_sem *idle_sem;
	unsigned long pending;
} cpu;

unsigned long lkl_irq_flags = ARCH_IRQ_DISABLED;
int lkl_irqs_pending;

int __init lkl_cpu_init(void)
{
	cpu.lock = lkl_ops->mutex_alloc();
	cpu.wait_sem = lkl_ops->sem_alloc(0);
	cpu.idle_sem = lkl_ops->sem_alloc(0);
	if (!cpu.lock || !cpu.wait_sem || !cpu.idle_sem)
		return -ENOMEM;
	/* The thread that runs start_kernel() owns the CPU from the start. */
	cpu.busy = true;
	return 0;
}

/* Take the CPU, waiting for it; false once the kernel has halted. */
bool lkl_cpu_get(void)
{
	lkl_ops->mutex_lock(cpu.lock);
	while (cpu.busy && !cpu.gone) {
		cpu.sleepers++;
		lkl_ops->mutex_unlock(cpu.lock);
		lkl_ops->sem_down(cpu.wait_sem);
		lkl_ops->mutex_lock(cpu.lock);
		cpu.sleepers--;
	}
	if (cpu.gone) {
		lkl_ops->mutex_unlock(cpu.lock);
		return false;
	}
	cpu.busy = true;
	lkl_ops->mutex_unlock(cpu.lock);
	return true;
}

/*
 * The kernel has halted on the calling host thread, which keeps the CPU
 * for good: whoever waits for it, or comes for it later, goes away empty
 * handed instead of waiting forever.
 */
void lkl_cpu_halt(void)
{
	int i;

	lkl_ops->mutex_lock(cpu.lock);
	cpu.gone = true;
	for (i = 0; i < cpu.sleepers; i++)
		lkl_ops->sem_up(cpu.wait_sem);
	lkl_ops->mutex_unlock(cpu.lock);
}

/* Called with cpu.lock held; frees the CPU unless interrupts are pending. */
static bool cpu_release_locked(void)
{
	if (cpu.pending)
		return false;
	cpu.busy = false;
	if (cpu.sleepers)
		lkl_ops->sem_up(cpu.wait_sem);
	return true;
}

/* Take the interrupts raised so far; the caller owns the CPU. */
unsigned long lkl_cpu_take_pending(void)
{
	unsigned long bits;

	lkl_ops->mutex_lock(cpu.lock);
	bits = cpu.pending;
	cpu.pending = 0;
	WRITE_ONCE(lkl_irqs_pending, 0);
	lkl_ops->mutex_unlock(cpu.lock);
	return bits;
}

/* The CPU passes, still owned, to the idle task's host thread. */
void lkl_cpu_wake_idle(void)
{
	lkl_ops->sem_up(cpu.idle_sem);
}

/*
 * Switch out the current host task on behalf of whichever host thread
 * owns the CPU.  The task sleeps until its own host thread wakes it;
 * __switch_to() jumps back here once the CPU belongs to the next task.
 * Returns false if nothing else was runnable after all, in which case the
 * caller still owns the CPU.
 */
static bool cpu_detach_current(void)
{
	struct task_struct *task = current;

	task->thread.detach = true;
	set_current_state(TASK_IDLE);
	lkl_ops->jmp_buf_set(&task->thread.jb, schedule);
	if (!task->thread.detach)
		return true;
	task->thread.detach = false;
	__set_current_state(TASK_RUNNING);
	return false;
}

/* Something should run: is the current task in its way? */
static bool cpu_must_yield(void)
{
	if (need_resched())
		return true;
	return current->thread.host_task && !single_task_running();
}

void lkl_cpu_put(void)
{
	bool ran_irqs = false;

	for (;;) {
		if (READ_ONCE(lkl_irqs_pending)) {
			lkl_run_pending_irqs();
			ran_irqs = true;
		}

		/*
		 * An interrupt ends the idle task's wait, as it ends a halt
		 * instruction on real hardware, even if nothing is runnable:
		 * the idle loop must look at the timers again.  With the tick
		 * stopped, a timer that the handler added is only programmed
		 * into the clockevent by tick_nohz_idle_stop_tick() when the
		 * idle loop comes round once more.
		 */
		if (is_idle_task(current)) {
			if (ran_irqs || need_resched()) {
				lkl_cpu_wake_idle();
				return;
			}
		} else if (cpu_must_yield() && current->thread.host_task &&
			   cpu_detach_current()) {
			return;
		}

		lkl_ops->mutex_lock(cpu.lock);
		if (cpu_release_locked()) {
			lkl_ops->mutex_unlock(cpu.lock);
			return;
		}
		lkl_ops->mutex_unlock(cpu.lock);
	}
}

/*
 * Called by a host thread: mark @irq pending and, if the CPU is free,
 * take it and run the handler now.  Otherwise the owner runs it when it
 * next enables interrupts or gives the CPU back.
 */
void lkl_irq_raise(int irq)
{
	lkl_ops->mutex_lock(cpu.lock);
	cpu.pending |= 1UL << irq;
	WRITE_ONCE(lkl_irqs_pending, 1);
	if (cpu.busy) {
		lkl_ops->mutex_unlock(cpu.lock);
		return;
	}
	cpu.busy = true;
	lkl_ops->mutex_unlock(cpu.lock);
	lkl_cpu_put();
}

/*
 * The idle task's arch_cpu_idle(): free the CPU and sleep until an
 * interrupt or a system call hands it back.  Entered and left with
 * interrupts disabled.
 */
void lkl_cpu_idle(void)
{
	lkl_ops->mutex_lock(cpu.lock);
	if (!cpu_release_locked()) {
		lkl_ops->mutex_unlock(cpu.lock);
		lkl_run_pending_irqs();
		return;
	}
	lkl_ops->mutex_unlock(cpu.lock);

	lkl_ops->sem_down(cpu.idle_sem);

	if (READ_ONCE(lkl_irqs_pending))
		lkl_run_pending_irqs();
}

/*
 * Make @task, a host task, the current task on the calling host thread,
 * which owns the CPU.  The current task is either idle, asleep in
 * lkl_cpu_idle(), or another host task left current after its call.
 */
void lkl_cpu_switch_to_host_task(struct task_struct *task)
{
	if (current == task)
		return;

	wake_up_process(task);
	if (is_idle_task(current))
		lkl_cpu_wake_idle();
	else if (!cpu_detach_current())
		BUG();	/* @task was just woken: the scheduler must pick someone */

	lkl_ops->sem_down(task->thread.sched_sem);
	schedule_tail(lkl_switch_last);
}

void arch_cpu_idle(void)
{
	lkl_cpu_idle();
}
