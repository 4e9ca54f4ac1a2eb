/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_CPU_H
#define _ASM_LKL_CPU_H

/*
 * The one CPU is owned by one host thread at a time; see kernel/cpu.c.
 */
#include <linux/types.h>

struct task_struct;

int lkl_cpu_init(void);
bool __must_check lkl_cpu_get(void);
void lkl_cpu_halt(void);
void lkl_cpu_put(void);
void lkl_cpu_idle(void);
void lkl_cpu_wake_idle(void);
unsigned long lkl_cpu_take_pending(void);
void lkl_cpu_switch_to_host_task(struct task_struct *task);

/* The task that ran before the one a host thread has just resumed. */
extern struct task_struct *lkl_switch_last;

/* Threads. */
int lkl_host_task_fn(void *unused);
void lkl_threads_halt(void);

#endif
