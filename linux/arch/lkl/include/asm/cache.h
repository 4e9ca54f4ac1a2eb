/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LKL_CACHE_H
#define _ASM_LKL_CACHE_H

/* Every host LKL runs on today has 64-byte cache lines. */
#define L1_CACHE_SHIFT		6
#define L1_CACHE_BYTES		(1 << L1_CACHE_SHIFT)

#endif
