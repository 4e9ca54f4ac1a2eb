/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_KERNEL_HOST_OPS_H
#define _ASM_LKL_KERNEL_HOST_OPS_H

#include <uapi/asm/host_ops.h>

/* The host's services, given to lkl_start_kernel(). */
extern const struct lkl_host_ops *lkl_ops;

#endif
