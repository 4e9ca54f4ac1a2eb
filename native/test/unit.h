/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checks of the C unit tests (host/test_posix_host.c,
 * disk/test_file_disk.c, copy/test_scan.c): the first failed one says
 * where and exits with status 1, which "make check" and npm test report.
 */
#ifndef LKL_NATIVE_TEST_UNIT_H
#define LKL_NATIVE_TEST_UNIT_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		exit(1);						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (a), _b = (b);					\
	if (_a != _b) {							\
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, #a, _a, #b, _b);		\
		exit(1);						\
	}								\
} while (0)

#endif /* LKL_NATIVE_TEST_UNIT_H */
