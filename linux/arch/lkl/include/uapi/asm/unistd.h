/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _ASM_UAPI_LKL_UNISTD_H
#define _ASM_UAPI_LKL_UNISTD_H

/* The generic system call table, laid out as on every new architecture. */
#include <asm/unistd_64.h>

#endif
