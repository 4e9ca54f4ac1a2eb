// SPDX-License-Identifier: GPL-2.0
/*
 * Boot and halt.
 *
 * lkl_start_kernel() runs start_kernel() on a new host thread, which
 * becomes the idle task.  Boot is over when pid 1 "executes" /init: a
 * binary format of ours catches that exec and turns pid 1 into the
 * factory of host tasks (see syscalls.c) instead of starting user space.
 */
#include <linux/init.h>
#include <linux/start_kernel.h>
#include <linux/binfmts.h>
#include <linux/fs.h>
#include <linux/init_syscalls.h>
#include <linux/panic_notifier.h>
#include <linux/reboot.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <asm/host_ops.h>
#include <asm/cpu.h>
#include <asm/setup.h>

#include "lkl.h"

const struct lkl_host_ops *lkl_ops;
static struct lkl_sem *boot_sem;
static int boot_error;

static int panic_to_host(struct notifier_block *nb, unsigned long event,
			 void *msg)
{
	lkl_ops->panic();
	return NOTIFY_DONE;
}

static struct notifier_block panic_nb = {
	.notifier_call = panic_to_host,
};

void __init setup_arch(char **cmdline_p)
{
	*cmdline_p = boot_command_line;
	parse_early_param();
	lkl_console_init();
	atomic_notifier_chain_register(&panic_notifier_list, &panic_nb);
	lkl_bootmem_init();
}

/* Init sections are never freed (see mem.c), so these may use them. */
static void __ref start_kernel_thread(void *unused)
{
	start_kernel();
}

int __ref lkl_start_kernel(const struct lkl_host_ops *ops, const char *cmdline)
{
	int err;

	if (lkl_ops)
		return -EBUSY;	/* one kernel per process, booted once */
	lkl_ops = ops;

	if (strscpy(boot_command_line, cmdline ?: "", COMMAND_LINE_SIZE) < 0)
		return -E2BIG;

	boot_sem = lkl_ops->sem_alloc(0);
	if (!boot_sem)
		return -ENOMEM;
	err = lkl_cpu_init();
	if (err)
		return err;
	err = lkl_syscalls_init();
	if (err)
		return err;
	init_task.thread.sched_sem = lkl_ops->sem_alloc(0);
	if (!init_task.thread.sched_sem)
		return -ENOMEM;

	init_task.thread.tid = lkl_ops->thread_create(start_kernel_thread,
						      NULL);
	if (!init_task.thread.tid)
		return -ENOMEM;

	lkl_ops->sem_down(boot_sem);
	return boot_error;
}

static int load_init(struct linux_binprm *bprm)
{
	if (strcmp(bprm->filename, "/init"))
		return -ENOEXEC;

	lkl_ops->sem_up(boot_sem);
	lkl_host_task_factory();
}

static struct linux_binfmt init_format = {
	.load_binary = load_init,
};

/*
 * Runs after every other initcall: give pid 1 an /init to exec, so that
 * kernel_init() skips the search for a root device, and give us /dev.
 */
static int __init lkl_fs_setup(void)
{
	struct file *file;
	int err;

	/* Read-only: a file open for writing could not be executed. */
	file = filp_open("/init", O_CREAT | O_RDONLY, 0700);
	if (IS_ERR(file))
		return PTR_ERR(file);
	fput(file);
	register_binfmt(&init_format);

	err = init_mount("devtmpfs", "/dev", "devtmpfs", SB_SILENT, NULL);
	if (err)
		pr_err("lkl: cannot mount devtmpfs on /dev: %d\n", err);

	/* /proc/self/fd gives the host library the path of a descriptor. */
	err = init_mkdir("/proc", 0555);
	if (!err)
		err = init_mount("proc", "/proc", "proc", SB_SILENT, NULL);
	if (err)
		pr_err("lkl: cannot mount proc on /proc: %d\n", err);
	return 0;
}
late_initcall_sync(lkl_fs_setup);

static struct lkl_jmp_buf halt_jb;

static void power_off(void)
{
	kernel_power_off();
}

long lkl_halt(void)
{
	long err;

	err = lkl_enter();
	if (err)
		return err;

	/* Other host threads' calls end first (lkl_calls_stop() may have). */
	lkl_stop_calls_entered();
	ksys_sync();
	lkl_ops->jmp_buf_set(&halt_jb, power_off);

	/* Back from machine_power_off(): every kernel thread has ended. */
	lkl_syscalls_halt();
	lkl_bootmem_halt();
	return 0;
}

void machine_power_off(void)
{
	lkl_time_halt();
	lkl_threads_halt();
	lkl_ops->jmp_buf_longjmp(&halt_jb, 1);
}

void machine_halt(void)
{
	machine_power_off();
}

void machine_restart(char *cmd)
{
	machine_power_off();
}
