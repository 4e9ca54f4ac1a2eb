/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_SYSCALLS_H
#define _ASM_LKL_SYSCALLS_H

#include <linux/linkage.h>
#include <linux/types.h>

/* The generic table's calls that each architecture defines itself. */
asmlinkage long sys_mmap(unsigned long addr, unsigned long len,
			 unsigned long prot, unsigned long flags,
			 unsigned long fd, off_t off);
asmlinkage long sys_rt_sigreturn(void);

#endif
