/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_XOR_H
#define _ASM_LKL_XOR_H

#include <asm-generic/xor.h>

/*
 * Only the generic C templates are here, and they differ little: on the
 * x86-64 test machine 32regs 47 GB/s, the other three 42-43.  Measuring
 * them at every boot (crypto/xor.c) cost each lkl command's start part
 * of its boot time, for btrfs's RAID, which images seldom use.
 */
#define XOR_SELECT_TEMPLATE(FASTEST) (&xor_block_32regs)

#endif
