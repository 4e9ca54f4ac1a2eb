// SPDX-License-Identifier: GPL-2.0
/*
 * Every kernel thread runs on a host thread of its own.  A task that is
 * not running waits on its sched_sem; __switch_to() posts the next task's
 * semaphore and waits on its own, so the CPU passes from host thread to
 * host thread.
 *
 * Host tasks are the tasks of host threads that make system calls.  They
 * have no host thread of their own: their caller runs them while in a
 * call, and between calls they are either left current or asleep.
 */
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/sched/signal.h>
#include <linux/sched/debug.h>
#include <linux/sched/hotplug.h>
#include <linux/sched/mm.h>
#include <linux/ptrace.h>
#include <asm/host_ops.h>
#include <asm/cpu.h>
#include <asm/switch_to.h>

struct task_struct *lkl_current_task = &init_task;
struct task_struct *lkl_switch_last;

/* Marks clones that are host tasks; it never runs. */
int lkl_host_task_fn(void *unused)
{
	BUG();
	return 0;
}

static void __noreturn thread_halted(void)
{
	lkl_ops->thread_exit();
	unreachable();
}

static void kernel_thread_entry(void *arg)
{
	struct task_struct *task = arg;
	struct thread_struct *t = &task->thread;

	lkl_ops->sem_down(t->sched_sem);
	if (t->exiting)
		thread_halted();
	schedule_tail(lkl_switch_last);
	t->fn(t->arg);
	/* On a real machine this would return to user space: there is none. */
	do_exit(0);
}

int copy_thread(struct task_struct *p, const struct kernel_clone_args *args)
{
	struct thread_struct *t = &p->thread;

	/* arch_dup_task_struct() copied the parent's fields: start afresh. */
	memset(t, 0, sizeof(*t));

	if (!args->fn)
		return -EINVAL;	/* no user space to fork */

	t->sched_sem = lkl_ops->sem_alloc(0);
	if (!t->sched_sem)
		return -ENOMEM;

	if (args->fn == lkl_host_task_fn) {
		t->host_task = true;
		return 0;
	}

	t->fn = args->fn;
	t->arg = args->fn_arg;
	t->tid = lkl_ops->thread_create(kernel_thread_entry, p);
	if (!t->tid) {
		lkl_ops->sem_free(t->sched_sem);
		t->sched_sem = NULL;
		return -ENOMEM;
	}
	return 0;
}

void arch_release_task_struct(struct task_struct *tsk)
{
	if (tsk->thread.sched_sem)
		lkl_ops->sem_free(tsk->thread.sched_sem);
	tsk->thread.sched_sem = NULL;
}

struct task_struct *__switch_to(struct task_struct *prev,
				struct task_struct *next)
{
	struct thread_struct *pt = &prev->thread;
	bool dead = READ_ONCE(prev->__state) == TASK_DEAD;
	bool detach = pt->detach;
	struct lkl_jmp_buf jb;

	/*
	 * Read all of prev first: once next runs, another host thread may
	 * wake prev and switch it out again.
	 */
	if (detach) {
		jb = pt->jb;
		pt->detach = false;
	}

	lkl_switch_last = prev;
	lkl_current_task = next;
	lkl_ops->sem_up(next->thread.sched_sem);

	if (detach)
		lkl_ops->jmp_buf_longjmp(&jb, 1);

	if (dead) {
		/* next frees prev, and its semaphore, in finish_task_switch() */
		lkl_ops->thread_detach();
		thread_halted();
	}

	lkl_ops->sem_down(pt->sched_sem);
	if (pt->exiting)
		thread_halted();
	return lkl_switch_last;
}

/*
 * The kernel is halting, on the current (host) task: end the host thread
 * of every other task.  Each waits on its semaphore, not running.
 */
void lkl_threads_halt(void)
{
	struct task_struct *g, *p;
	lkl_thread_t tids[64];
	int n, i;

	do {
		n = 0;
		rcu_read_lock();
		for_each_process_thread(g, p) {
			/* A dying thread has detached itself: leave it. */
			if (p == current || !p->thread.tid ||
			    p->thread.exiting || (p->flags & PF_EXITING))
				continue;
			p->thread.exiting = true;
			tids[n++] = p->thread.tid;
			lkl_ops->sem_up(p->thread.sched_sem);
			if (n == ARRAY_SIZE(tids))
				break;
		}
		rcu_read_unlock();
		for (i = 0; i < n; i++)
			lkl_ops->thread_join(tids[i]);
	} while (n == ARRAY_SIZE(tids));

	init_task.thread.exiting = true;
	lkl_ops->sem_up(init_task.thread.sched_sem);
	lkl_ops->thread_join(init_task.thread.tid);
}

void flush_thread(void)
{
}

void show_regs(struct pt_regs *regs)
{
	show_regs_print_info(KERN_DEFAULT);
}

unsigned long __get_wchan(struct task_struct *p)
{
	return 0;
}

/* Host stacks carry no frame information the kernel could walk. */
void show_stack(struct task_struct *task, unsigned long *sp,
		const char *loglvl)
{
}
