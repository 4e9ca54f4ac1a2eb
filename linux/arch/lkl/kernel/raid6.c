// SPDX-License-Identifier: GPL-2.0
/*
 * lib/raid6/algos.c lists the x86 SIMD implementations whenever the
 * compiler targets x86-64, but lib/raid6/Makefile builds them only for
 * ARCH=x86.  When our compiler targets x86-64 (our ARCH being lkl), give
 * those entries here, marked unusable: btrfs's RAID5/6 code then picks
 * the generic C versions.  On other hosts algos.c lists only what its
 * CONFIG_ options (never set for lkl) ask for, and this file is empty.
 */
#include <linux/raid/pq.h>

/* The same test as algos.c's, so that the two lists always agree. */
#if defined(__x86_64__) && !defined(__arch_um__)

static int unavailable(void)
{
	return 0;
}

#define LKL_RAID6_UNAVAILABLE(sym)				\
	const struct raid6_calls sym = {			\
		.valid = unavailable,				\
		.name = #sym " (not built for lkl)",		\
	}

LKL_RAID6_UNAVAILABLE(raid6_sse2x1);
LKL_RAID6_UNAVAILABLE(raid6_sse2x2);
LKL_RAID6_UNAVAILABLE(raid6_sse2x4);
LKL_RAID6_UNAVAILABLE(raid6_avx2x1);
LKL_RAID6_UNAVAILABLE(raid6_avx2x2);
LKL_RAID6_UNAVAILABLE(raid6_avx2x4);

#endif /* __x86_64__ */
