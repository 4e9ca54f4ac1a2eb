/* SPDX-License-Identifier: GPL-2.0 */
/* What the files of arch/lkl/kernel share with each other. */
#ifndef _LKL_KERNEL_LKL_H
#define _LKL_KERNEL_LKL_H

void lkl_console_init(void);
void lkl_bootmem_init(void);
void lkl_bootmem_halt(void);
void lkl_time_halt(void);

int lkl_syscalls_init(void);
void lkl_syscalls_halt(void);
void __noreturn lkl_host_task_factory(void);
long lkl_enter(void);
void lkl_leave(void);
void lkl_stop_calls_entered(void);

#endif
