/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel console of lklfuse-server: written to a log file if asked
 * (-o log=FILE), and its latest lines kept to explain a failed mount.
 * There is one kernel per process, so there is one console: this state is
 * the process's, not a mount's.
 */
#ifndef LKLFUSE_CONSOLE_H
#define LKLFUSE_CONSOLE_H

#include <stddef.h>

/* Append the console to @path (NULL: keep it in memory only). */
int lklfuse_console_open(const char *path);
void lklfuse_console_close(void);

/* The kernel's print callback. */
void lklfuse_console_print(const char *str, int len);

/* A mark to pass to lklfuse_console_last_line(). */
unsigned long long lklfuse_console_mark(void);
/*
 * The last non-empty line the kernel printed since @mark, without its
 * time stamp, into @buf; false when there is none.
 */
int lklfuse_console_last_line(unsigned long long mark, char *buf,
			      size_t len);

#endif /* LKLFUSE_CONSOLE_H */
