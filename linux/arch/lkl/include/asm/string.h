/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_STRING_H
#define _ASM_LKL_STRING_H

/* Implemented in kernel/string.c with the host's help. */
#define __HAVE_ARCH_MEMCPY
#define __HAVE_ARCH_MEMSET
#define __HAVE_ARCH_MEMMOVE

extern void *memcpy(void *dest, const void *src, __kernel_size_t count);
extern void *memset(void *s, int c, __kernel_size_t count);
extern void *memmove(void *dest, const void *src, __kernel_size_t count);

#endif
