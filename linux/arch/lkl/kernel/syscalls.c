// SPDX-License-Identifier: GPL-2.0
/*
 * System calls from host threads.
 *
 * Each host thread that calls in gets a task of its own, a "host task",
 * created on its first call by pid 1 and remembered in a host
 * thread-local slot.  Host tasks share pid 1's open files and filesystem
 * context, so a file descriptor opened on one host thread works on all.
 *
 * A host task cannot exit when its host thread does: exiting means
 * running do_exit() on the task, and the thread is gone.  Instead the
 * slot's destructor puts the task on a list of spares, and the next new
 * host thread takes it rather than a new one.  A server whose thread pool
 * grows and shrinks (libfuse's) so holds as many host tasks as it ever
 * had threads at once, not as many as it ever started.
 *
 * A halt may come while other host threads are inside calls: a read of a
 * FIFO that nobody will write, a long write, the listing of a big
 * directory.  Every call is counted from lkl_enter() to lkl_leave().
 * lkl_calls_stop() shuts the door to every host thread but its caller's
 * (their calls fail at once with -EINTR), sends SIGKILL to each host task
 * inside a call and waits until none is left.  The signal is never
 * delivered, as there is no user space to return to: it only ends the
 * waits that a killed process's would end (interruptible and killable
 * ones) and makes the long loops of reads, writes and directory listings
 * stop early, as for a killed process; the call returns what the kernel
 * gives then (-EINTR where it would restart the call, or the bytes done
 * so far).  Uninterruptible waits, the disk's, end as they always do.
 */
#include <linux/syscalls.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/wait.h>
#include <linux/list.h>
#include <linux/mman.h>
#include <linux/err.h>
#include <linux/task_work.h>
#include <asm/host_ops.h>
#include <asm/cpu.h>
#include <asm/unistd.h>
#include <asm/syscalls.h>

#include "lkl.h"

typedef long (*syscall_fn_t)(long, long, long, long, long, long);

/*
 * Every sys_ function takes its arguments as longs in registers, so each
 * is called through the same six-argument type.
 */
#undef __SYSCALL
#define __SYSCALL(nr, call)	[nr] = (void *)(call),
#define __SYSCALL_WITH_COMPAT(nr, native, compat)	__SYSCALL(nr, native)

static void *const syscall_table[__NR_syscalls] = {
	[0 ... __NR_syscalls - 1] = (void *)sys_ni_syscall,
#include <asm/syscall_table_64.h>
};

static struct lkl_tls_key *task_key;
static bool halted;

/* Under the CPU: host tasks inside a call, and who stops calls. */
static int in_calls;
static struct task_struct *stopper;
static DECLARE_WAIT_QUEUE_HEAD(calls_ended);

struct host_task_request {
	struct list_head list;
	struct lkl_sem *done;
	struct task_struct *task;
};

static LIST_HEAD(requests);
static LIST_HEAD(spares);
static struct task_struct *factory;

/* The slot's destructor: the host thread that ran @data has ended. */
static void host_task_release(void *data)
{
	struct task_struct *task = data;

	if (READ_ONCE(halted) || !lkl_cpu_get())
		return;
	list_add(&task->thread.spare, &spares);
	lkl_cpu_put();
}

int __init lkl_syscalls_init(void)
{
	task_key = lkl_ops->tls_alloc(host_task_release);
	return task_key ? 0 : -ENOMEM;
}

/* The halt is over; the calling host thread keeps the CPU for good. */
void lkl_syscalls_halt(void)
{
	WRITE_ONCE(halted, true);
	lkl_ops->tls_set(task_key, NULL);
	lkl_cpu_halt();
}

/* pid 1's work once booted: create host tasks when asked, forever. */
void __noreturn lkl_host_task_factory(void)
{
	struct host_task_request *req;
	pid_t pid;

	factory = current;
	for (;;) {
		set_current_state(TASK_IDLE);
		if (list_empty(&requests)) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);

		req = list_first_entry(&requests, struct host_task_request, list);
		list_del(&req->list);

		pid = user_mode_thread(lkl_host_task_fn, NULL,
				       CLONE_FS | CLONE_FILES);
		if (pid < 0) {
			req->task = ERR_PTR(pid);
		} else {
			rcu_read_lock();
			req->task = find_task_by_vpid(pid);
			get_task_struct(req->task);
			rcu_read_unlock();
		}
		lkl_ops->sem_up(req->done);
	}
}

/* A spare host task for this host thread, with the CPU owned, or NULL. */
static struct task_struct *host_task_reuse(void)
{
	struct task_struct *task;

	task = list_first_entry_or_null(&spares, struct task_struct,
					thread.spare);
	if (!task)
		return NULL;
	if (lkl_ops->tls_set(task_key, task))
		return NULL;
	list_del(&task->thread.spare);
	return task;
}

/*
 * First call on this host thread: take a spare host task, or ask pid 1
 * for a new one and wait to be scheduled as it.  Returns with the CPU
 * owned and the task current.
 */
static long host_task_create(void)
{
	struct host_task_request req = { .task = NULL };
	struct task_struct *spare;

	if (!lkl_cpu_get())
		return -EINTR;
	spare = host_task_reuse();
	if (spare) {
		lkl_cpu_switch_to_host_task(spare);
		return 0;
	}
	lkl_cpu_put();

	req.done = lkl_ops->sem_alloc(0);
	if (!req.done)
		return -ENOMEM;

	if (!lkl_cpu_get()) {
		lkl_ops->sem_free(req.done);
		return -EINTR;
	}
	if (stopper || !factory) {
		lkl_cpu_put();
		lkl_ops->sem_free(req.done);
		return stopper ? -EINTR : -ENODEV;
	}
	list_add_tail(&req.list, &requests);
	wake_up_process(factory);
	lkl_cpu_put();

	lkl_ops->sem_down(req.done);
	lkl_ops->sem_free(req.done);
	if (IS_ERR(req.task))
		return PTR_ERR(req.task);

	if (lkl_ops->tls_set(task_key, req.task)) {
		/* Still ours to run once; let it sleep forever after. */
		lkl_ops->sem_down(req.task->thread.sched_sem);
		schedule_tail(lkl_switch_last);
		lkl_cpu_put();
		return -ENOMEM;
	}

	/* New tasks are runnable: the CPU comes through its semaphore. */
	lkl_ops->sem_down(req.task->thread.sched_sem);
	schedule_tail(lkl_switch_last);
	return 0;
}

/*
 * Run the calling host thread as its host task, with the CPU owned, for
 * one call; lkl_leave() ends it.  -EINTR once a halt has begun (but for
 * the halting thread): a caller must not retry then.
 */
long lkl_enter(void)
{
	struct task_struct *task;
	long err;

	if (READ_ONCE(halted))
		return -EINTR;

	task = lkl_ops->tls_get(task_key);
	if (READ_ONCE(stopper) && task != READ_ONCE(stopper))
		return -EINTR;
	if (!task) {
		err = host_task_create();
		if (err)
			return err;
	} else {
		if (!lkl_cpu_get())
			return -EINTR;
		lkl_cpu_switch_to_host_task(task);
	}

	/* Looked at again with the CPU: a halt may have begun meanwhile. */
	if (stopper && current != stopper) {
		lkl_cpu_put();
		return -EINTR;
	}
	current->thread.in_call = true;
	in_calls++;
	return 0;
}

void lkl_leave(void)
{
	current->thread.in_call = false;
	in_calls--;
	if (stopper)
		wake_up(&calls_ended);
	lkl_cpu_put();
}

/*
 * With the current host task inside a call (lkl_enter()): end every
 * other host thread's call and refuse new ones, for good.
 */
void lkl_stop_calls_entered(void)
{
	struct task_struct *g, *p;

	stopper = current;
	rcu_read_lock();
	for_each_process_thread(g, p) {
		if (p != current && p->thread.in_call)
			send_sig(SIGKILL, p, 1);
	}
	rcu_read_unlock();
	/* Ours is the call left. */
	wait_event(calls_ended, in_calls == 1);
}

long lkl_calls_stop(void)
{
	long err = lkl_enter();

	if (err)
		return err;
	lkl_stop_calls_entered();
	lkl_leave();
	return 0;
}

/*
 * What a signal's delivery would make of these on the way back to user
 * space: the interrupted call fails with EINTR.
 */
static long restart_to_eintr(long ret)
{
	switch (ret) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return -EINTR;
	default:
		return ret;
	}
}

long lkl_syscall(long no, long *params)
{
	long ret;

	if (no < 0 || no >= __NR_syscalls)
		return -ENOSYS;

	/* The host thread is not a process: it cannot leave through exit. */
	if (no == __NR_exit || no == __NR_exit_group)
		return -EPERM;

	ret = lkl_enter();
	if (ret)
		return ret;
	ret = ((syscall_fn_t)syscall_table[no])(params[0], params[1],
						 params[2], params[3],
						 params[4], params[5]);
	/*
	 * What a real kernel does on the way back to user space: the last
	 * fput() of a file and the end of an unmount are deferred to here.
	 */
	if (task_work_pending(current))
		task_work_run();
	lkl_leave();
	return restart_to_eintr(ret);
}

/* Calls the generic table names that every architecture defines itself. */
SYSCALL_DEFINE6(mmap, unsigned long, addr, unsigned long, len,
		unsigned long, prot, unsigned long, flags,
		unsigned long, fd, off_t, offset)
{
	if (offset & ~PAGE_MASK)
		return -EINVAL;
	return ksys_mmap_pgoff(addr, len, prot, flags, fd,
			       offset >> PAGE_SHIFT);
}

SYSCALL_DEFINE0(rt_sigreturn)
{
	return -ENOSYS;
}
