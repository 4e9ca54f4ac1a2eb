/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_UACCESS_H
#define _ASM_LKL_UACCESS_H

/* "User" memory is host memory in the same address space: memcpy it. */
#include <asm/processor.h>
#include <asm-generic/uaccess.h>

#endif
