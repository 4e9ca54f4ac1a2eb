/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One record of getdents64(2), the same for the host and for the kernel
 * in lkl.o; libc's struct dirent64 would tie it to the host's headers.
 */
#ifndef LKL_NATIVE_KERNEL_DIRENT64_H
#define LKL_NATIVE_KERNEL_DIRENT64_H

struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#endif
